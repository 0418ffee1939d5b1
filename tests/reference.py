"""Plain numpy forward passes of the recurrent layers, written from the equations.

This module is an oracle for tests: it imports no TensorFlow and computes in
float64. It covers the conventions the port has to bridge (docs/original.md):

* :func:`rnn_cell` - ``BasicRNNCell`` / ``keras.layers.SimpleRNN``.
* :func:`tf1_lstm_cell` - TF1 ``BasicLSTMCell`` (one kernel over
  ``concat([x, h])``, gates i, j, f, o, forget bias added at run time).
* :func:`keras_lstm_cell` - ``keras.layers.LSTM`` (separate kernels,
  gates i, f, c, o, forget bias stored in the bias).
* :func:`keras_gru_cell` - ``keras.layers.GRU`` (gates z, r, h).
* :func:`dynamic_rnn` - TF1 ``tf.nn.dynamic_rnn`` with ``sequence_length``.
* :func:`stacked`, :func:`bidirectional`, :func:`last_valid_step`.

Every cell has the signature ``cell(x, state, *weights) -> (output, new_state)``
with ``x`` of shape ``[batch, input_dim]``. Passing ``state=None`` means the
zero state. Bind the weights with :func:`make_cell` (or ``functools.partial``)
to get the two-argument ``cell_fn(x, state)`` that :func:`dynamic_rnn` runs.

Weight layouts (``u`` = units, ``d`` = input_dim); a "gate block" is a slice
of ``u`` consecutive columns:

================  =================================  ==========  ============
cell              kernel(s)                          bias        gate blocks
================  =================================  ==========  ============
rnn_cell          kernel [d, u], recurrent [u, u]    [u]         -
tf1_lstm_cell     kernel [d + u, 4u] (rows: x, h)    [4u]        i, j, f, o
keras_lstm_cell   kernel [d, 4u], recurrent [u, 4u]  [4u]        i, f, c, o
keras_gru_cell    kernel [d, 3u], recurrent [u, 3u]  [2, 3u] *   z, r, h
================  =================================  ==========  ============

(*) ``[2, 3u]`` (row 0 input bias, row 1 recurrent bias) when
``reset_after=True``, the Keras default; ``[3u]`` when ``reset_after=False``.

Lengths: sequences are RIGHT-padded; ``lengths[b]`` is the number of valid
steps of example ``b`` (steps ``0 .. lengths[b] - 1``). ``lengths=None`` means
every step is valid.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sigmoid",
    "rnn_cell",
    "tf1_lstm_cell",
    "keras_lstm_cell",
    "keras_gru_cell",
    "make_cell",
    "dynamic_rnn",
    "rnn",
    "stacked",
    "reverse_sequence",
    "bidirectional",
    "bidirectional_final_output",
    "last_valid_step",
    "sequence_mask",
]


# ----------------------------------------------------------------- helpers


def _f64(a):
    """Return ``a`` as a float64 numpy array."""
    return np.asarray(a, dtype=np.float64)


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, numerically stable."""
    z = _f64(z)
    return np.exp(-np.logaddexp(0.0, -z))


def _split_gates(z, n):
    """Split the last axis of ``z`` into ``n`` equal gate blocks."""
    return np.split(z, n, axis=-1)


def _zeros(x, units):
    """A zero ``[batch, units]`` state for the batch of ``x``."""
    return np.zeros((np.shape(x)[0], units), dtype=np.float64)


def _map_state(fn, *states):
    """Apply ``fn`` leaf-wise to states that are arrays or tuples of arrays."""
    if isinstance(states[0], (tuple, list)):
        return tuple(fn(*leaves) for leaves in zip(*states))
    return fn(*states)


def sequence_mask(lengths, max_len):
    """Boolean ``[batch, max_len]`` mask, True where ``t < lengths[b]``."""
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def _lengths_or_full(lengths, batch, max_len):
    """``lengths`` as an int array, or ``max_len`` for every example."""
    if lengths is None:
        return np.full((batch,), max_len, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.shape != (batch,) or lengths.min() < 0 or lengths.max() > max_len:
        raise ValueError(f"lengths must be {batch} ints in [0, {max_len}]")
    return lengths


# ------------------------------------------------------------------- cells


def rnn_cell(x, h, kernel, recurrent_kernel, bias):
    """One step of a simple tanh RNN (``BasicRNNCell``, Keras ``SimpleRNN``).

    ``h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        x: ``[batch, d]`` input at this step.
        h: ``[batch, u]`` previous state, or None for zeros.
        kernel: ``[d, u]``; recurrent_kernel: ``[u, u]``; bias: ``[u]``.

    Returns:
        ``(h_t, h_t)``: the output equals the new state.
    """
    x, kernel, recurrent_kernel, bias = map(_f64, (x, kernel, recurrent_kernel, bias))
    h = _zeros(x, recurrent_kernel.shape[0]) if h is None else _f64(h)
    h_new = np.tanh(x @ kernel + h @ recurrent_kernel + bias)
    return h_new, h_new


def tf1_lstm_cell(x, state, kernel, bias, forget_bias=1.0):
    """One step of TF1 ``BasicLSTMCell`` (``state_is_tuple=True``, tanh).

    ``[i, j, f, o] = split(concat([x_t, h_{t-1}]) @ kernel + bias, 4)``;
    ``c_t = c_{t-1} * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)``;
    ``h_t = tanh(c_t) * sigmoid(o)``.

    Args:
        x: ``[batch, d]``.
        state: ``(c, h)``, each ``[batch, u]``, or None for zeros.
        kernel: ``[d + u, 4u]``; rows ``[:d]`` multiply ``x``, rows ``[d:]``
            multiply ``h``; column blocks are gates i, j, f, o.
        bias: ``[4u]``, same gate order; it does NOT contain the forget bias.
        forget_bias: added to the f gate at run time (1.0 in the original).

    Returns:
        ``(h_t, (c_t, h_t))``.
    """
    x, kernel, bias = map(_f64, (x, kernel, bias))
    units = bias.shape[0] // 4
    if state is None:
        state = (_zeros(x, units), _zeros(x, units))
    c, h = map(_f64, state)
    z = np.concatenate([x, h], axis=-1) @ kernel + bias
    i, j, f, o = _split_gates(z, 4)
    c_new = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
    h_new = np.tanh(c_new) * sigmoid(o)
    return h_new, (c_new, h_new)


def keras_lstm_cell(x, state, kernel, recurrent_kernel, bias):
    """One step of ``keras.layers.LSTM`` (default tanh / sigmoid activations).

    ``[i, f, g, o] = split(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias, 4)``;
    ``c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)``;
    ``h_t = sigmoid(o) * tanh(c_t)``.

    Args:
        x: ``[batch, d]``.
        state: ``(c, h)``, each ``[batch, u]``, or None for zeros. (Keras
            itself orders the state as ``[h, c]``; here it is ``(c, h)`` like
            TF1 so both LSTM cells are interchangeable.)
        kernel: ``[d, 4u]``; recurrent_kernel: ``[u, 4u]``; bias: ``[4u]``;
            column blocks are gates i, f, c (candidate), o. Any forget bias
            lives in the f block of ``bias``.

    Returns:
        ``(h_t, (c_t, h_t))``.
    """
    x, kernel, recurrent_kernel, bias = map(_f64, (x, kernel, recurrent_kernel, bias))
    units = recurrent_kernel.shape[0]
    if state is None:
        state = (_zeros(x, units), _zeros(x, units))
    c, h = map(_f64, state)
    z = x @ kernel + h @ recurrent_kernel + bias
    i, f, g, o = _split_gates(z, 4)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h_new = sigmoid(o) * np.tanh(c_new)
    return h_new, (c_new, h_new)


def keras_gru_cell(x, h, kernel, recurrent_kernel, bias, reset_after=True):
    """One step of ``keras.layers.GRU`` (default tanh / sigmoid activations).

    With ``reset_after=True`` (Keras default, cuDNN compatible), ``bias`` is
    ``[2, 3u]`` = (input bias ``b_x``, recurrent bias ``b_h``)::

        xz, xr, xh = split(x_t @ kernel + b_x, 3)
        hz, hr, hh = split(h_{t-1} @ recurrent_kernel + b_h, 3)
        z = sigmoid(xz + hz);  r = sigmoid(xr + hr)
        candidate = tanh(xh + r * hh)

    With ``reset_after=False``, ``bias`` is ``[3u]`` (input side only) and the
    reset gate is applied before the matrix product::

        candidate = tanh(xh + (r * h_{t-1}) @ recurrent_kernel[:, 2u:])

    In both cases ``h_t = z * h_{t-1} + (1 - z) * candidate``.

    Args:
        x: ``[batch, d]``; h: ``[batch, u]`` or None for zeros.
        kernel: ``[d, 3u]``; recurrent_kernel: ``[u, 3u]``; column blocks
            are z (update), r (reset), h (candidate).

    Returns:
        ``(h_t, h_t)``.
    """
    x, kernel, recurrent_kernel, bias = map(_f64, (x, kernel, recurrent_kernel, bias))
    units = recurrent_kernel.shape[0]
    h = _zeros(x, units) if h is None else _f64(h)
    if reset_after:
        input_bias, recurrent_bias = bias[0], bias[1]
    else:
        input_bias, recurrent_bias = bias, np.zeros_like(bias)
    xz, xr, xh = _split_gates(x @ kernel + input_bias, 3)
    rec = h @ recurrent_kernel + recurrent_bias
    hz, hr, hh = _split_gates(rec, 3)
    z = sigmoid(xz + hz)
    r = sigmoid(xr + hr)
    if reset_after:
        candidate = np.tanh(xh + r * hh)
    else:
        candidate = np.tanh(xh + (r * h) @ recurrent_kernel[:, 2 * units :])
    h_new = z * h + (1.0 - z) * candidate
    return h_new, h_new


def make_cell(cell, *weights, **kwargs):
    """Bind weights to a cell: ``make_cell(keras_lstm_cell, k, rk, b)``.

    Returns ``cell_fn(x, state) -> (output, new_state)``.
    """

    def cell_fn(x, state):
        return cell(x, state, *weights, **kwargs)

    cell_fn.__name__ = getattr(cell, "__name__", "cell_fn")
    return cell_fn


# ------------------------------------------------------------ over time


def dynamic_rnn(cell_fn, x, lengths=None, initial_state=None):
    """Run ``cell_fn`` over time with TF1 ``tf.nn.dynamic_rnn`` semantics.

    For each example ``b`` and step ``t < lengths[b]`` the cell is applied as
    usual. For ``t >= lengths[b]`` the output is zero and the state is copied
    unchanged, so the returned final state is the state after step
    ``lengths[b] - 1`` (the initial state when ``lengths[b] == 0``).

    Args:
        cell_fn: ``cell_fn(x_t, state) -> (output, new_state)``, see
            :func:`make_cell`; ``state=None`` must mean the zero state.
        x: ``[batch, time, d]`` (batch-major, ``time_major=False``).
        lengths: ``[batch]`` ints or None (all steps valid).
        initial_state: a state (array or tuple of arrays) or None for zeros.

    Returns:
        ``(outputs [batch, time, output_size], final_state)``.
    """
    x = _f64(x)
    batch, time = x.shape[0], x.shape[1]
    if time == 0:
        raise ValueError("dynamic_rnn needs at least one time step")
    lengths = _lengths_or_full(lengths, batch, time)
    state = initial_state
    if state is None:
        _, probe = cell_fn(x[:, 0], None)
        state = _map_state(np.zeros_like, probe)
    state = _map_state(_f64, state)

    outputs = []
    for t in range(time):
        out, new_state = cell_fn(x[:, t], state)
        valid = (t < lengths)[:, None]
        outputs.append(np.where(valid, out, 0.0))
        state = _map_state(lambda new, old: np.where(valid, new, old), new_state, state)
    return np.stack(outputs, axis=1), state


def rnn(x, kernel, recurrent_kernel, bias, lengths=None, initial_state=None):
    """A simple tanh RNN over ``x`` ``[batch, time, d]``: see :func:`rnn_cell`.

    Returns ``(outputs [batch, time, u], final_h [batch, u])``.
    """
    cell_fn = make_cell(rnn_cell, kernel, recurrent_kernel, bias)
    return dynamic_rnn(cell_fn, x, lengths=lengths, initial_state=initial_state)


def stacked(cell_fns, x, lengths=None, initial_states=None):
    """Several recurrent layers, each layer's outputs feeding the next.

    Equivalent to TF1 ``MultiRNNCell`` under ``dynamic_rnn`` (the stacked
    state is frozen past each length as a whole) and to stacked Keras RNN
    layers with ``return_sequences=True`` sharing one mask.

    Args:
        cell_fns: list of ``cell_fn(x, state)``, bottom layer first.
        x: ``[batch, time, d]``; lengths: ``[batch]`` or None.
        initial_states: list (one per layer) of states or None, or None.

    Returns:
        ``(outputs of the top layer, [final state of each layer])``.
    """
    if initial_states is None:
        initial_states = [None] * len(cell_fns)
    finals = []
    outputs = _f64(x)
    for cell_fn, init in zip(cell_fns, initial_states):
        outputs, final = dynamic_rnn(cell_fn, outputs, lengths, init)
        finals.append(final)
    return outputs, finals


def reverse_sequence(x, lengths=None):
    """Reverse the first ``lengths[b]`` steps of each example, like
    ``tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)``.

    Steps at or past ``lengths[b]`` stay where they are. Applying it twice
    gives back ``x``. ``lengths=None`` reverses the whole time axis.
    """
    x = np.asarray(x)
    batch, time = x.shape[0], x.shape[1]
    lengths = _lengths_or_full(lengths, batch, time)
    out = x.copy()
    for b, n in enumerate(lengths):
        out[b, :n] = x[b, :n][::-1]
    return out


def bidirectional(fw_cell_fn, bw_cell_fn, x, lengths=None):
    """A bidirectional layer: forward run plus a run over the reversed valid part.

    The backward cell reads each example's valid steps in reverse order
    (``reverse_sequence``), and its outputs are reversed back so that
    position ``t`` holds the backward output after reading steps
    ``lengths[b] - 1 .. t``. This is what TF1 ``bidirectional_dynamic_rnn``
    and Keras ``Bidirectional`` with a mask compute. Positions past a length
    are zero in both halves.

    Args:
        fw_cell_fn, bw_cell_fn: ``cell_fn(x, state)`` of each direction.
        x: ``[batch, time, d]``; lengths: ``[batch]`` or None.

    Returns:
        ``(outputs [batch, time, 2 * u] = concat([fwd, bwd], -1),
        (fw_final_state, bw_final_state))``.
    """
    fw_out, fw_state = dynamic_rnn(fw_cell_fn, x, lengths)
    bw_out_rev, bw_state = dynamic_rnn(bw_cell_fn, reverse_sequence(_f64(x), lengths), lengths)
    bw_out = reverse_sequence(bw_out_rev, lengths)
    return np.concatenate([fw_out, bw_out], axis=-1), (fw_state, bw_state)


def last_valid_step(outputs, lengths=None):
    """``outputs[b, lengths[b] - 1]`` for each ``b`` (``[batch, features]``).

    Zero for an example of length 0. ``lengths=None`` takes the last step.
    """
    outputs = np.asarray(outputs)
    batch, time = outputs.shape[0], outputs.shape[1]
    lengths = _lengths_or_full(lengths, batch, time)
    picked = outputs[np.arange(batch), np.maximum(lengths - 1, 0)]
    return np.where((lengths > 0)[:, None], picked, 0.0)


def bidirectional_final_output(outputs, lengths=None):
    """The ``return_sequences=False`` output of a bidirectional layer.

    Given the ``[batch, time, 2u]`` outputs of :func:`bidirectional`, returns
    ``concat([fwd at step lengths[b] - 1, bwd at step 0])``: the forward
    output at the last valid step and the backward output after reading the
    whole valid part reversed. This is what Keras ``Bidirectional`` returns
    with ``return_sequences=False`` (and the final ``h`` of both directions).
    """
    outputs = np.asarray(outputs)
    half = outputs.shape[-1] // 2
    fwd = last_valid_step(outputs[..., :half], lengths)
    bwd = outputs[:, 0, half:]
    return np.concatenate([fwd, bwd], axis=-1)
