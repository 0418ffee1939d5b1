"""The network: shapes, masking, the original's architecture, cuDNN eligibility."""

import itertools
import math

import keras
import numpy as np
import pytest

from textrnn.training.recurrent.model import (CELLS, POOLINGS, ModelConfig, build_model, cudnn_blockers,
                           recurrent_layers)


def config(**overrides):
    return ModelConfig(**{"vocab_size": 50, "num_classes": 4, "num_embedding_size": 8,
                          "num_lstm_nodes": (6, 5), "num_fc_nodes": 7, **overrides})


def test_logits_have_batch_by_classes_shape_and_float32():
    logits = build_model(config())(np.ones((3, 9), np.int32))
    assert tuple(logits.shape) == (3, 4) and logits.dtype == "float32"


@pytest.mark.parametrize("cell, bidirectional, pooling", [
    ("lstm", False, "last"), ("gru", False, "last"), ("rnn", False, "last"),
    ("lstm", True, "last"), ("gru", True, "max"), ("lstm", False, "mean"),
    ("lstm", True, "max_mean"), ("lstm", False, "last_max")])
def test_padded_sequence_gives_same_logits_as_unpadded(cell, bidirectional, pooling):
    model = build_model(config(cell=cell, bidirectional=bidirectional, pooling=pooling))
    unpadded = np.array([[3, 9, 4, 7]], np.int32)
    padded = np.array([[3, 9, 4, 7, 0, 0, 0, 0, 0]], np.int32)
    np.testing.assert_allclose(model(padded), model(unpadded), atol=1e-6)


def test_each_row_of_a_batch_is_read_at_its_own_last_valid_step():
    model = build_model(config())
    batch = np.array([[3, 9, 0, 0], [5, 6, 7, 8]], np.int32)
    np.testing.assert_allclose(model(batch)[0], model(batch[:1, :2])[0], atol=1e-6)
    np.testing.assert_allclose(model(batch)[1], model(batch[1:])[0], atol=1e-6)


def test_original_padding_reads_the_last_padded_step():
    model = build_model(config(padding="original"))
    short = np.array([[3, 9]], np.int32)
    padded = np.array([[3, 9, 1, 1, 1]], np.int32)  # <UNK> padding, as the original
    assert not np.allclose(model(short), model(padded))


def test_original_hyperparameters_build_the_original_architecture():
    vocab, classes = 5000, 10
    model = build_model(ModelConfig(vocab_size=vocab, num_classes=classes))
    lstms = recurrent_layers(model)
    assert [layer.units for layer in lstms] == [32, 32]
    assert model.get_layer("embedding").output_dim == 16
    assert model.get_layer("fc1").units == 32 and model.get_layer("fc2").units == classes
    # The original's variables (docs/original.md): same parameter count, Keras split the kernels.
    expected = (vocab * 16 + (48 * 128 + 128) + (64 * 128 + 128) + (32 * 32 + 32)
                + (32 * classes + classes))
    assert model.count_params() == expected


def test_dropout_is_active_in_training_only():
    model = build_model(config(dropout=0.5))
    x = np.array([[3, 9, 4, 7]], np.int32)
    np.testing.assert_array_equal(model(x, training=False), model(x, training=False))
    samples = [model(x, training=True).numpy() for _ in range(5)]
    assert any(not np.allclose(samples[0], s) for s in samples[1:])


def test_original_initializers_use_the_tf1_ranges():
    cfg = ModelConfig(vocab_size=300, num_classes=4)
    model = build_model(cfg)
    embedding = model.get_layer("embedding").embeddings.numpy()
    assert embedding.min() >= -1 and embedding.max() <= 1 and embedding.std() > 0.5
    s = 1 / math.sqrt(16 + 32) / 3
    for layer in recurrent_layers(model):
        for weights in (layer.cell.kernel.numpy(), layer.cell.recurrent_kernel.numpy()):
            assert np.abs(weights).max() <= s and np.abs(weights).max() > 0.9 * s
        bias = layer.cell.bias.numpy()
        np.testing.assert_array_equal(bias[32:64], 1.0)  # forget gate: TF1's forget_bias
        np.testing.assert_array_equal(np.delete(bias, np.s_[32:64]), 0.0)


# Every configuration the flags can produce: cell x bidirectional x pooling x initializer.
FLAG_CONFIGS = list(itertools.product(CELLS, [False, True], POOLINGS, ["original", "keras"]))


@pytest.mark.parametrize("cell, bidirectional, pooling, initializer", FLAG_CONFIGS)
def test_every_flag_configuration_keeps_lstm_and_gru_cudnn_eligible(cell, bidirectional, pooling,
                                                                    initializer):
    model = build_model(config(cell=cell, bidirectional=bidirectional, pooling=pooling,
                               initializer=initializer, embedding_dropout=0.1))
    layers = recurrent_layers(model)
    assert len(layers) == 2 * (2 if bidirectional else 1)
    for layer in layers:
        if cell == "rnn":
            assert cudnn_blockers(layer) == ["SimpleRNN has no cuDNN kernel"]
        else:
            assert cudnn_blockers(layer) == []


def test_cudnn_check_detects_a_blocking_setting():
    layer = keras.layers.LSTM(4, recurrent_dropout=0.1, unroll=True)
    layer.build((None, 3, 2))
    assert set(cudnn_blockers(layer)) == {"recurrent_dropout > 0", "unroll=True"}


def test_mixed_bfloat16_keeps_variables_and_logits_float32():
    try:
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
        model = build_model(config())
        logits = model(np.array([[3, 9, 4]], np.int32))
        assert all(v.dtype == "float32" for v in model.weights)
        assert model.get_layer("embedding").compute_dtype == "bfloat16"
        assert recurrent_layers(model)[0].compute_dtype == "bfloat16"
        assert logits.dtype == "float32"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_mixed_float16_policy_computes_in_float16_with_float32_logits():
    try:
        keras.mixed_precision.set_dtype_policy("mixed_float16")
        model = build_model(config())
        assert model.get_layer("fc1").compute_dtype == "float16"
        assert model.get_layer("fc1").variable_dtype == "float32"
        assert model.get_layer("fc2").compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("return_sequences, go_backwards", [(False, False), (True, False),
                                                             (False, True), (True, True)])
def test_fused_cpu_lstm_matches_keras_lstm_values_and_gradients(return_sequences, go_backwards):
    import tensorflow as tf
    from textrnn.training.recurrent.model import FusedLSTM
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(4, 7, 5)), tf.float32)
    mask = tf.sequence_mask([1, 7, 3, 5], 7)
    options = dict(units=6, return_sequences=return_sequences, go_backwards=go_backwards)
    reference, fused = keras.layers.LSTM(**options), FusedLSTM(**options)
    reference(x, mask=mask), fused(x, mask=mask)
    fused.set_weights([w + rng.normal(size=w.shape) * 0.3 for w in reference.get_weights()])
    reference.set_weights(fused.get_weights())
    results = []
    for layer in (reference, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, mask=mask)
            # A backward layer's sequence comes in processing order: valid steps last.
            order = tf.reverse(mask, [1]) if go_backwards else mask
            valid = tf.cast(order, y.dtype)[:, :, None] if return_sequences else 1.0
            loss = tf.reduce_sum(tf.sin(y) * valid)  # padded outputs differ by design
        results.append((y * valid, tape.gradient(loss, [x, *layer.trainable_variables])))
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-5)
    for fused_grad, reference_grad in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(fused_grad, reference_grad, atol=1e-5)
