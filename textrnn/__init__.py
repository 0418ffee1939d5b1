"""textrnn: stacked-RNN text classification for Chinese news (TF2/Keras port)."""

import os

# TensorFlow's C++ start-up chatter (oneDNN notices, missing CUDA drivers on
# CPU machines) buries the tools' own output; users can still override this.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
