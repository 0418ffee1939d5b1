"""Where training runs: tf.distribute strategy and mixed-precision policy.

Everything device-specific is decided here, once, before the model is built,
so the rest of the code is the same on a laptop CPU, one GPU, several GPUs or
several machines.
"""

import contextlib
import json
import os

import keras
import tensorflow as tf

from textrnn.util.errors import UserError

from textrnn.training.config import STRATEGIES


def make_strategy(name, num_cpu_devices=1):
    """A tf.distribute.Strategy for `name` (see STRATEGIES).

    num_cpu_devices > 1 splits the CPU into logical devices first, so that a
    mirrored run can be tried without GPUs.
    """
    if name == "multi_worker":
        # Must come before anything initialises the runtime (device listing does).
        if "TF_CONFIG" not in os.environ:
            raise UserError("--strategy=multi_worker needs the TF_CONFIG environment variable "
                            "(cluster and task); see docs/devices.md, 'Several machines'")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if num_cpu_devices > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * num_cpu_devices)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    raise UserError(f"unknown --strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def is_chief(strategy):
    """True on the worker that writes outputs (the only one outside multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return task_type in (None, "worker") and task_id == 0 and not has_chief


def set_precision(name):
    """Set Keras' global dtype policy; returns the policy name in force.

    auto: mixed_float16 on a GPU, float32 elsewhere. float16 without a GPU
    works but is slow (CPUs emulate it); it is allowed so the GPU path can be
    tested anywhere.
    """
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if name == "auto":
        name = "float16" if has_gpu else "none"
    if name == "float16" and not has_gpu:
        from textrnn.util.console import say
        say("warning: --mixed_precision=float16 without a GPU is slow; bfloat16 suits CPUs")
    policy = {"none": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}[name]
    keras.mixed_precision.set_dtype_policy(policy)
    return policy


def describe(strategy, policy, cudnn_reasons):
    """One start-up line, in plain words: what trains, on how many replicas, how."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = ", ".join(sorted({tf.config.experimental.get_device_details(g).get(
            "device_name", g.name) for g in gpus}))
        where = f"training on {len(gpus)} GPU{'s' if len(gpus) > 1 else ''} ({names})"
    else:
        where = "training on the CPU (no GPU found)"
    replicas = strategy.num_replicas_in_sync
    parts = [where]
    if replicas > 1:
        parts.append(f"{replicas} replicas ({type(strategy).__name__})")
    if cudnn_reasons:
        parts.append("cuDNN kernels off: " + "; ".join(sorted(set(cudnn_reasons))))
    elif gpus:
        parts.append("cuDNN kernels on")
    if policy != "float32":
        parts.append(f"precision {policy}")
    return "; ".join(parts)


@contextlib.contextmanager
def process_left_as_found():
    """Run a training in someone else's process and give it back as it was: Keras' global
    dtype policy, the global seeds (Python's, numpy's, TensorFlow's and Keras') are
    restored afterwards, whatever the run set."""
    import random
    import numpy as np
    from tensorflow.python.eager import context
    policy = keras.config.dtype_policy()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    tf_seed = context.global_seed()
    keras_seed = _keras_seed()
    try:
        yield
    finally:
        keras.config.set_dtype_policy(policy)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        tf.random.set_seed(tf_seed)
        _set_keras_seed(keras_seed)


def _keras_seed():
    from keras.src.backend.common import global_state
    return global_state.get_global_attribute("global_random_seed")


def _set_keras_seed(seed):
    from keras.src.backend.common import global_state
    global_state.set_global_attribute("global_random_seed", seed)
