"""Tokens to model inputs: the in-graph token and label encoders and the tf.data
pipelines that batch them."""
