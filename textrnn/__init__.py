"""textrnn: stacked-RNN text classification for Chinese news (TF2/Keras port)."""

import logging
import os

# TensorFlow's start-up chatter (oneDNN notices, missing CUDA drivers on CPU
# machines, per-save INFO lines) buries the tools' own output; users can
# still override both settings.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.getLogger("tensorflow").setLevel(logging.WARNING)

__version__ = "0.1.0"
