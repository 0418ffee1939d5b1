"""textrnn: stacked-RNN text classification for Chinese news (TF2/Keras port)."""

import logging
import os

# TensorFlow's start-up chatter (oneDNN notices, missing CUDA drivers on CPU
# machines, per-save INFO lines) buries the tools' own output; users can
# still override both settings (util/startup.py filters what this level cannot hide,
# unless the user set the level).
USER_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL") or None  # empty: not set
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's kernels pay off for large matrices; textrnn's recurrent steps are
# small, and on a CPU they slow its train step (benchmarks/results/speed.md).
# Set TF_ENABLE_ONEDNN_OPTS=1 to have them back. Only effective when textrnn is
# imported before TensorFlow, as its tools do.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
logging.getLogger("tensorflow").setLevel(logging.WARNING)

__version__ = "0.1.0"
