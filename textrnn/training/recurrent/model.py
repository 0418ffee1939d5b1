"""The network: embedding -> stacked RNN layers -> last valid step -> dense head.

Plain arguments (a ModelConfig), no flags, so tests and tools can build it.

Layout, following the original (docs/original.md):

    ids [batch, time] -> Embedding (mask_zero: <PAD> = 0 is masked)
      -> N x {LSTM | GRU | SimpleRNN}(units_i) [bidirectional optional]
         each followed by Dropout on its outputs (the original's output-only
         DropoutWrapper; never recurrent_dropout, which rules out cuDNN)
      -> output at the last *valid* step (Keras RNNs do this given a mask,
         as TF1 dynamic_rnn did given sequence_length); or, with `pooling`,
         the max and/or mean of the last layer's outputs over the valid steps
      -> Dense(num_fc_nodes, relu) -> Dropout -> Dense(num_classes) logits

padding="original" rebuilds the original's defect for imported checkpoints:
no mask, the output read at the last padded step.
"""

import contextlib
import dataclasses
import math

import keras
from keras import layers

from textrnn.training.recurrent import CELLS, INITIALIZERS, POOLINGS


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    num_classes: int
    num_embedding_size: int = 16
    cell: str = "lstm"
    num_lstm_nodes: tuple = (32, 32)
    bidirectional: bool = False
    num_fc_nodes: int = 32
    dropout: float = 0.2  # the original's keep_prob 0.8
    initializer: str = "original"
    padding: str = "mask"
    pooling: str = "last"
    embedding_dropout: float = 0.0

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.pooling != "last" and self.padding != "mask":
            raise ValueError("pooling over valid steps needs padding='mask'")
        if self.initializer not in INITIALIZERS:
            raise ValueError(f"initializer must be one of {INITIALIZERS}")
        if not self.num_lstm_nodes or min(self.num_lstm_nodes) < 1:
            raise ValueError("num_lstm_nodes needs at least one positive size")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        object.__setattr__(self, "num_lstm_nodes", tuple(int(n) for n in self.num_lstm_nodes))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**{**values, "num_lstm_nodes": tuple(values["num_lstm_nodes"])})


@keras.saving.register_keras_serializable(package="textrnn")
class MaskedPooling(layers.Layer):
    """Last, max or mean over the valid (unmasked) steps of [batch, time, units].

    "last" gathers the step at length - 1 itself rather than trusting what an
    RNN emits at padded steps: Keras repeats the last valid output there, the
    cuDNN kernel writes zeros.
    """

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.supports_masking = True

    def call(self, x, mask=None):
        from keras import ops
        if mask is None:
            mask = ops.ones(ops.shape(x)[:2], dtype="bool")
        valid = ops.expand_dims(mask, -1)
        if self.mode == "last":
            lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
            index = ops.reshape(ops.maximum(lengths - 1, 0), (-1, 1, 1))
            return ops.take_along_axis(x, index, axis=1)[:, 0, :]
        if self.mode == "max":
            lowest = ops.convert_to_tensor(-65000.0 if x.dtype == "float16" else -1e9, x.dtype)
            return ops.max(ops.where(valid, x, lowest), axis=1)
        weights = ops.cast(valid, x.dtype)
        return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="textrnn")
class FusedLSTM(layers.LSTM):
    """keras.layers.LSTM that runs TensorFlow's fused BlockLSTM kernel on CPU.

    On a GPU nothing changes: Keras picks its cuDNN kernel. Without one,
    Keras would step a generic while-loop cell by cell; the fused kernel
    computes the same function about twice as fast. It ignores the mask, which
    is exact for right-padded input: an LSTM is causal, so outputs at valid
    steps never see the padding; the last valid step is gathered, outputs past
    it are zeroed, and the backward direction reverses each sequence within its
    length -- all as Keras' cuDNN path does. The weights are the LSTM's own, so
    checkpoints and exports are interchangeable with keras.layers.LSTM.
    """

    # False under XLA (Trainer sets it for --jit_compile): BlockLSTM has no XLA kernel.
    allow_fused = True
    # True while portable_kernels() traces an export: fused on a GPU too.
    everywhere = False

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not (self.allow_fused and _fused_lstm_applies(self, sequences)):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        from textrnn.training.recurrent import fused
        return fused.block_lstm(sequences, initial_state[0], initial_state[1], mask,
                                self.cell.kernel, self.cell.recurrent_kernel, self.cell.bias,
                                go_backwards=self.go_backwards)


def _gpu_present():
    import tensorflow as tf
    return bool(tf.config.list_logical_devices("GPU"))


def _fused_lstm_applies(layer, sequences):
    import tensorflow as tf
    cell = layer.cell
    return ((FusedLSTM.everywhere or not _gpu_present())
            and sequences.dtype in (tf.float32, tf.float16)
            and not cell.dropout and not cell.recurrent_dropout and not layer.unroll
            and cell.use_bias and cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid)


# Half-widths of the uniform the embedding starts from: Keras' default ("uniform"), and
# the TF1 graph's.
EMBEDDING_UNIFORM = dict(keras=0.05, original=1.0)


def embedding_std(initializer):
    """The standard deviation of a randomly initialised embedding's values (uniform over
    (-a, a): a / sqrt(3)): the input size the layers above are initialised for."""
    return EMBEDDING_UNIFORM[initializer] / math.sqrt(3.0)


def _initializers(config):
    """Initialisers per part; 'original' reproduces the TF1 graph's choices."""
    if config.initializer == "keras":
        return dict(embedding="uniform", recurrent={}, dense="glorot_uniform")
    # TF1: uniform(-s, s) over the LSTM scope, s = 1/sqrt(emb + last units)/3;
    # BasicLSTMCell's bias stays at zero (the forget bias is added at run time,
    # which Keras' unit_forget_bias reproduces in the stored bias).
    s = 1.0 / math.sqrt(config.num_embedding_size + config.num_lstm_nodes[-1]) / 3.0
    uniform = keras.initializers.RandomUniform(-s, s)
    return dict(
        embedding=keras.initializers.RandomUniform(-EMBEDDING_UNIFORM["original"],
                                                   EMBEDDING_UNIFORM["original"]),
        recurrent=dict(kernel_initializer=uniform, recurrent_initializer=uniform),
        # uniform_unit_scaling(1.0) == variance scaling, fan-in, uniform.
        dense=keras.initializers.VarianceScaling(1.0, "fan_in", "uniform"),
    )


def _recurrent_layer(config, units, return_sequences, initializers, name):
    common = dict(units=units, return_sequences=return_sequences, **initializers)
    if config.cell == "lstm":
        layer = FusedLSTM(unit_forget_bias=True, name=name, **common)
    elif config.cell == "gru":
        layer = layers.GRU(reset_after=True, name=name, **common)  # reset_after: cuDNN's variant
    else:
        layer = layers.SimpleRNN(name=name, **common)
    if config.bidirectional:
        return layers.Bidirectional(layer, name=f"bi_{name}")
    return layer


def build_model(config: ModelConfig) -> keras.Model:
    """The classifier as a functional Keras model: int ids -> float32 logits."""
    init = _initializers(config)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    x = layers.Embedding(config.vocab_size, config.num_embedding_size,
                         embeddings_initializer=init["embedding"],
                         mask_zero=config.padding == "mask", name="embedding")(ids)
    if config.embedding_dropout:
        x = layers.SpatialDropout1D(config.embedding_dropout, name="embedding_dropout")(x)
    last = len(config.num_lstm_nodes) - 1
    for i, units in enumerate(config.num_lstm_nodes):
        sequences = i < last or config.pooling != "last"
        x = _recurrent_layer(config, units, sequences, init["recurrent"], f"{config.cell}_{i}")(x)
        x = layers.Dropout(config.dropout, name=f"{config.cell}_{i}_dropout")(x)
    x = _pool(x, config.pooling)
    x = layers.Dense(config.num_fc_nodes, activation="relu", kernel_initializer=init["dense"],
                     name="fc1")(x)
    x = layers.Dropout(config.dropout, name="fc1_dropout")(x)
    # float32 logits even under a mixed-precision policy: softmax and loss need the range.
    logits = layers.Dense(config.num_classes, kernel_initializer=init["dense"],
                          dtype="float32", name="fc2")(x)
    return keras.Model(ids, logits, name="textrnn")


def _pool(sequence, pooling):
    """Summarise the last layer's outputs; 'last' has already been taken by the RNN."""
    if pooling == "last":
        return sequence
    parts = [MaskedPooling(mode, name=f"{mode}_pool")(sequence) for mode in pooling.split("_")]
    return parts[0] if len(parts) == 1 else layers.Concatenate(name="pooled")(parts)


def recurrent_layers(model):
    """The innermost recurrent layers (unwrapping Bidirectional)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, layers.RNN):
            found.append(layer)
    return found


@contextlib.contextmanager
def portable_kernels(models):
    """Trace `models` with kernels every device has: no cuDNN-only op in the graph.

    On a GPU Keras runs LSTMs and GRUs on cuDNN, and a graph traced there holds
    CudnnRNN ops, which have no CPU kernel: a SavedModel exported on a GPU
    machine would not run on a CPU one. Inside this block LSTMs run the fused
    BlockLSTM kernel (it has CPU and GPU kernels) and GRUs Keras' generic
    loop, whatever the device; both compute the function cuDNN computes.
    """
    rnns = [layer for model in models for layer in recurrent_layers(model)
            if hasattr(layer, "use_cudnn")]
    saved = [layer.use_cudnn for layer in rnns]
    for layer in rnns:
        layer.use_cudnn = False
    FusedLSTM.everywhere = True
    try:
        yield
    finally:
        FusedLSTM.everywhere = False
        for layer, value in zip(rnns, saved):
            layer.use_cudnn = value


def cudnn_blockers(layer):
    """Reasons `layer` could not run on cuDNN on a GPU; empty when it can.

    Mirrors the conditions Keras checks before choosing the cuDNN kernel.
    The remaining condition, a right-padded mask with no empty row, holds by
    construction: TokenEncoder pads on the right and never emits an empty row.
    """
    if isinstance(layer, layers.SimpleRNN):
        return ["SimpleRNN has no cuDNN kernel"]
    reasons = []
    cell = layer.cell
    if cell.activation is not keras.activations.tanh:
        reasons.append("activation is not tanh")
    if cell.recurrent_activation is not keras.activations.sigmoid:
        reasons.append("recurrent_activation is not sigmoid")
    if layer.unroll:
        reasons.append("unroll=True")
    if not cell.use_bias:
        reasons.append("use_bias=False")
    if cell.recurrent_dropout:
        reasons.append("recurrent_dropout > 0")
    if getattr(layer, "use_cudnn", "auto") is False:
        reasons.append("use_cudnn=False")
    if isinstance(layer, layers.GRU) and not cell.reset_after:
        reasons.append("GRU reset_after=False")
    return reasons
