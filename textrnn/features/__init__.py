"""Tokens to model inputs: the in-graph token and label encoders and the tf.data
pipelines that batch them.

PADDINGS, the choices of --padding, is here so the settings' definitions
(training/config.py) read it without loading TensorFlow.
"""

PADDINGS = ("mask", "original")
