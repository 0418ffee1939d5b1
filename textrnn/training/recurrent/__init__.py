"""The recurrent classifier: embedding, stacked LSTM/GRU layers, pooling and the
dense head, and the fused LSTM kernel.

The choices of its settings are here, where the settings' definitions
(training/config.py) read them without loading Keras.
"""

CELLS = ("lstm", "gru", "rnn")
INITIALIZERS = ("original", "keras")
POOLINGS = ("last", "max", "mean", "max_mean", "last_max")
