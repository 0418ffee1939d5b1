"""Check the numpy oracle in textrnn.reference against Keras 3 layers.

Every Keras layer is fed RIGHT-padded inputs with a boolean mask built from
per-example lengths (one of length 1, one full length); padded steps hold
random garbage so that any leak through the mask shows up. Keras weights are
set from the same numpy arrays the reference uses.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

import reference as ref
from textrnn.training.tf1_import import tf1_to_keras_lstm

keras = pytest.importorskip("keras")

BATCH, TIME, FEATURES, UNITS, VOCAB = 4, 7, 5, 6, 11
LENGTHS = np.array([1, 7, 3, 5])
ATOL = 1e-5


# ---------------------------------------------------------------- fixtures


def _uniform(rng, shape, scale=0.5):
    return rng.uniform(-scale, scale, size=shape)


def _inputs(seed=0):
    """Float inputs [BATCH, TIME, FEATURES]; garbage (not zeros) past lengths."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, TIME, FEATURES))


def _mask(lengths=LENGTHS, time=TIME):
    return ref.sequence_mask(lengths, time)


def _lstm_weights(seed, input_dim=FEATURES, units=UNITS):
    rng = np.random.default_rng(seed)
    return [
        _uniform(rng, (input_dim, 4 * units)),
        _uniform(rng, (units, 4 * units)),
        _uniform(rng, (4 * units,)),
    ]


def _gru_weights(seed, input_dim=FEATURES, units=UNITS):
    rng = np.random.default_rng(seed)
    return [
        _uniform(rng, (input_dim, 3 * units)),
        _uniform(rng, (units, 3 * units)),
        _uniform(rng, (2, 3 * units)),
    ]


def _rnn_weights(seed, input_dim=FEATURES, units=UNITS):
    rng = np.random.default_rng(seed)
    return [
        _uniform(rng, (input_dim, units)),
        _uniform(rng, (units, units)),
        _uniform(rng, (units,)),
    ]


def _set_weights(layer, weights, expected_names):
    """Set ``weights`` after checking ``layer.weights`` comes in that order."""
    names = [w.path.split("/")[-1] for w in layer.weights]
    assert names == list(expected_names), names
    layer.set_weights([np.asarray(w, dtype=np.float32) for w in weights])


def _build(layer, input_dim=FEATURES):
    layer.build((None, TIME, input_dim))
    return layer


def _keras_rnn(cls, return_sequences, **kwargs):
    # zero_output_for_mask mirrors what Bidirectional forces on its halves:
    # zeros past the length with return_sequences, the last valid output
    # otherwise (True there would zero the final output of short examples).
    return cls(
        UNITS,
        return_sequences=return_sequences,
        zero_output_for_mask=return_sequences,
        **kwargs,
    )


def _call(layer, x, mask=None):
    if mask is None:
        mask = _mask()
    return np.asarray(layer(x.astype(np.float32), mask=mask))


def _final(outputs, return_sequences):
    return outputs if return_sequences else ref.last_valid_step(outputs, LENGTHS)


LSTM_NAMES = ("kernel", "recurrent_kernel", "bias")


# ------------------------------------------------------- Keras single layers


@pytest.mark.parametrize("return_sequences", [True, False])
def test_keras_lstm_with_mask_matches_reference(return_sequences):
    x, w = _inputs(1), _lstm_weights(2)
    layer = _build(_keras_rnn(keras.layers.LSTM, return_sequences))
    _set_weights(layer, w, LSTM_NAMES)
    expected, _ = ref.dynamic_rnn(ref.make_cell(ref.keras_lstm_cell, *w), x, LENGTHS)
    np.testing.assert_allclose(
        _call(layer, x), _final(expected, return_sequences), atol=ATOL
    )


@pytest.mark.parametrize("return_sequences", [True, False])
def test_keras_gru_reset_after_with_mask_matches_reference(return_sequences):
    x, w = _inputs(3), _gru_weights(4)
    layer = _build(_keras_rnn(keras.layers.GRU, return_sequences))
    assert layer.cell.reset_after
    _set_weights(layer, w, LSTM_NAMES)
    expected, _ = ref.dynamic_rnn(ref.make_cell(ref.keras_gru_cell, *w), x, LENGTHS)
    np.testing.assert_allclose(
        _call(layer, x), _final(expected, return_sequences), atol=ATOL
    )


@pytest.mark.parametrize("return_sequences", [True, False])
def test_keras_simple_rnn_with_mask_matches_reference(return_sequences):
    x, w = _inputs(5), _rnn_weights(6)
    layer = _build(_keras_rnn(keras.layers.SimpleRNN, return_sequences))
    _set_weights(layer, w, LSTM_NAMES)
    expected, _ = ref.rnn(x, *w, lengths=LENGTHS)
    np.testing.assert_allclose(
        _call(layer, x), _final(expected, return_sequences), atol=ATOL
    )


def test_keras_default_mask_output_repeats_last_valid_output():
    """Keras' default zero_output_for_mask=False: padded steps repeat the
    last valid output instead of TF1 dynamic_rnn's zeros."""
    x, w = _inputs(7), _lstm_weights(8)
    layer = _build(keras.layers.LSTM(UNITS, return_sequences=True))
    _set_weights(layer, w, LSTM_NAMES)
    expected, _ = ref.dynamic_rnn(ref.make_cell(ref.keras_lstm_cell, *w), x, LENGTHS)
    last = ref.last_valid_step(expected, LENGTHS)
    carried = np.where(_mask()[..., None], expected, last[:, None, :])
    np.testing.assert_allclose(_call(layer, x), carried, atol=ATOL)


# ------------------------------------------------- Keras composite layers


@pytest.mark.parametrize("return_sequences", [True, False])
def test_keras_bidirectional_lstm_with_mask_matches_reference(return_sequences):
    x = _inputs(9)
    w_fw, w_bw = _lstm_weights(10), _lstm_weights(11)
    layer = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, return_sequences=return_sequences)
    )
    _build(layer)
    _set_weights(layer, w_fw + w_bw, LSTM_NAMES * 2)
    assert "forward" in layer.weights[0].path
    assert "backward" in layer.weights[3].path
    outputs, _ = ref.bidirectional(
        ref.make_cell(ref.keras_lstm_cell, *w_fw),
        ref.make_cell(ref.keras_lstm_cell, *w_bw),
        x,
        LENGTHS,
    )
    expected = (
        outputs if return_sequences else ref.bidirectional_final_output(outputs, LENGTHS)
    )
    np.testing.assert_allclose(_call(layer, x), expected, atol=ATOL)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_two_stacked_keras_lstms_with_mask_match_reference(return_sequences):
    x = _inputs(12)
    w1, w2 = _lstm_weights(13), _lstm_weights(14, input_dim=UNITS)
    first = _build(keras.layers.LSTM(UNITS, return_sequences=True))
    second = _build(_keras_rnn(keras.layers.LSTM, return_sequences), UNITS)
    _set_weights(first, w1, LSTM_NAMES)
    _set_weights(second, w2, LSTM_NAMES)
    mask = _mask()
    got = second(first(x.astype(np.float32), mask=mask), mask=mask)
    expected, _ = ref.stacked(
        [ref.make_cell(ref.keras_lstm_cell, *w) for w in (w1, w2)], x, LENGTHS
    )
    np.testing.assert_allclose(
        np.asarray(got), _final(expected, return_sequences), atol=ATOL
    )


def test_embedded_integer_batch_lstm_matches_reference():
    """Right-padded token ids (pad id 0) through an embedding table."""
    rng = np.random.default_rng(15)
    ids = rng.integers(1, VOCAB, size=(BATCH, TIME))
    ids[~_mask()] = 0
    table = _uniform(rng, (VOCAB, FEATURES), scale=1.0)
    w = _lstm_weights(16)
    embedding = keras.layers.Embedding(VOCAB, FEATURES)
    embedding.build((None, TIME))
    embedding.set_weights([table.astype(np.float32)])
    layer = _build(keras.layers.LSTM(UNITS))
    _set_weights(layer, w, LSTM_NAMES)
    got = layer(embedding(ids), mask=_mask())
    outputs, _ = ref.dynamic_rnn(
        ref.make_cell(ref.keras_lstm_cell, *w), table[ids], LENGTHS
    )
    np.testing.assert_allclose(
        np.asarray(got), ref.last_valid_step(outputs, LENGTHS), atol=ATOL
    )


# ----------------------------------------------------- TF1 vs Keras LSTM cell


def test_tf1_lstm_cell_equals_keras_lstm_cell_after_weight_conversion():
    rng = np.random.default_rng(17)
    kernel = _uniform(rng, (FEATURES + UNITS, 4 * UNITS))
    bias = _uniform(rng, (4 * UNITS,))
    x = rng.normal(size=(BATCH, FEATURES))
    state = (rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, UNITS)))
    converted = tf1_to_keras_lstm(kernel, bias, FEATURES, forget_bias=1.0)
    out_tf1, (c_tf1, h_tf1) = ref.tf1_lstm_cell(x, state, kernel, bias, forget_bias=1.0)
    out_keras, (c_keras, h_keras) = ref.keras_lstm_cell(x, state, *converted)
    np.testing.assert_allclose(out_tf1, out_keras, atol=1e-12)
    np.testing.assert_allclose(c_tf1, c_keras, atol=1e-12)
    np.testing.assert_allclose(h_tf1, h_keras, atol=1e-12)


def test_converted_tf1_lstm_weights_run_in_keras_lstm():
    rng = np.random.default_rng(18)
    kernel = _uniform(rng, (FEATURES + UNITS, 4 * UNITS))
    bias = _uniform(rng, (4 * UNITS,))
    x = _inputs(19)
    layer = _build(keras.layers.LSTM(UNITS))
    _set_weights(layer, tf1_to_keras_lstm(kernel, bias, FEATURES), LSTM_NAMES)
    cell = ref.make_cell(ref.tf1_lstm_cell, kernel, bias, forget_bias=1.0)
    _, (_, h) = ref.dynamic_rnn(cell, x, LENGTHS)
    np.testing.assert_allclose(_call(layer, x), h, atol=ATOL)


# -------------------------------------------------- dynamic_rnn semantics


def _tf1_cell(seed=20):
    rng = np.random.default_rng(seed)
    kernel = _uniform(rng, (FEATURES + UNITS, 4 * UNITS))
    bias = _uniform(rng, (4 * UNITS,))
    return ref.make_cell(ref.tf1_lstm_cell, kernel, bias)


def test_dynamic_rnn_zeros_outputs_past_length():
    outputs, _ = ref.dynamic_rnn(_tf1_cell(), _inputs(21), LENGTHS)
    assert np.all(outputs[~_mask()] == 0.0)
    assert np.all(np.abs(outputs[_mask()]).sum(axis=-1) > 0.0)


def test_dynamic_rnn_freezes_state_at_last_valid_step():
    cell, x = _tf1_cell(), _inputs(22)
    _, (c, h) = ref.dynamic_rnn(cell, x, LENGTHS)
    for b, n in enumerate(LENGTHS):
        # Running only the valid prefix gives the same state.
        _, (c_b, h_b) = ref.dynamic_rnn(cell, x[b : b + 1, :n])
        np.testing.assert_allclose(c[b], c_b[0], atol=1e-12)
        np.testing.assert_allclose(h[b], h_b[0], atol=1e-12)


def test_dynamic_rnn_final_h_is_output_at_last_valid_step():
    outputs, (_, h) = ref.dynamic_rnn(_tf1_cell(), _inputs(23), LENGTHS)
    np.testing.assert_allclose(ref.last_valid_step(outputs, LENGTHS), h, atol=1e-12)


def test_dynamic_rnn_ignores_padding_values():
    cell, x = _tf1_cell(), _inputs(24)
    noisy = np.where(_mask()[..., None], x, 1e3)
    a_out, a_state = ref.dynamic_rnn(cell, x, LENGTHS)
    b_out, b_state = ref.dynamic_rnn(cell, noisy, LENGTHS)
    np.testing.assert_array_equal(a_out, b_out)
    np.testing.assert_array_equal(a_state[0], b_state[0])


def test_reverse_sequence_reverses_only_valid_steps():
    x = np.arange(BATCH * TIME).reshape(BATCH, TIME)
    rev = ref.reverse_sequence(x, LENGTHS)
    for b, n in enumerate(LENGTHS):
        np.testing.assert_array_equal(rev[b, :n], x[b, :n][::-1])
        np.testing.assert_array_equal(rev[b, n:], x[b, n:])
