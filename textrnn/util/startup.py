"""Importing TensorFlow without its start-up noise.

On a machine without a GPU, importing TensorFlow prints lines that are only
noise for textrnn's users (`cudart_stub.cc ... Could not find cuda drivers`,
`cuda_platform.cc ... failed call to cuInit`, `WARNING: All log messages
before absl::InitializeLog() ...`). They are written by C++ code before
TF_CPP_MIN_LOG_LEVEL takes effect, so the level alone cannot hide them.
`import_tensorflow` captures the process' stderr while TensorFlow loads and
looks for devices, then replays every line except the known noise: a real
error still reaches the user. The filter holds whatever TF_CPP_MIN_LOG_LEVEL
says, except 0: a user who asks TensorFlow for all of its logging gets its
start-up output as it is.
"""

import os
import re
import sys
import tempfile

import logging

USER_LOG_LEVEL = None  # the user's TF_CPP_MIN_LOG_LEVEL, read before a command sets its own

NOISE = re.compile(
    r"cudart_stub\.cc.*Could not find cuda drivers"
    r"|cuda_platform\.cc.*failed call to cuInit"
    r"|All log messages before absl::InitializeLog\(\) is called"
    r"|cpu_feature_guard\.cc|To enable the following instructions:.*rebuild TensorFlow"
    r"|oneDNN custom operations are on")


def command_environment():
    """The commands' defaults for TensorFlow, set before it loads (the library, imported
    into someone else's process, never touches the environment). The user's own values
    win.

    TF_CPP_MIN_LOG_LEVEL=2: TensorFlow's start-up chatter (oneDNN notices, missing CUDA
    drivers, per-save INFO lines) buries the tools' own output. TF_ENABLE_ONEDNN_OPTS=0:
    oneDNN's kernels pay off for large matrices; textrnn's recurrent steps are small,
    and on a CPU they slow its train step (benchmarks/speed.py measures both).
    """
    global USER_LOG_LEVEL
    USER_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL") or None  # empty: not set
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    logging.getLogger("tensorflow").setLevel(logging.WARNING)


def import_tensorflow():
    """Import TensorFlow (and let it probe for GPUs) with the noise filtered out."""
    if "tensorflow" in sys.modules or USER_LOG_LEVEL == "0":
        import tensorflow as tf
        return tf
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf
            tf.config.list_physical_devices("GPU")  # where cuInit complains
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not NOISE.search(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
    return tf
