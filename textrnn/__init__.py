"""textrnn: stacked-RNN text classification for Chinese news (TF2/Keras port)."""

__version__ = "0.1.0"
