"""A whole LSTM sequence in one fused TensorFlow kernel (BlockLSTM), for CPUs.

Used by model.FusedLSTM when there is no GPU. It takes Keras' LSTM weights
(gate order i, f, c, o; forget bias already in the bias) and returns what
Keras' cuDNN path returns, so the two are interchangeable.
"""

import tensorflow as tf


def _icfo(matrix):
    """Keras' i, f, c, o gate blocks -> BlockLSTM's i, c, f, o."""
    i, f, c, o = tf.split(matrix, 4, axis=-1)
    return tf.concat([i, c, f, o], axis=-1)


def block_lstm(inputs, h0, c0, mask, kernel, recurrent_kernel, bias, go_backwards=False):
    """inputs [batch, time, features] -> (last_output, outputs, [h, c]).

    `mask` [batch, time] must be right padding (True then False). Outputs past
    each sequence's length are zero, like cuDNN's; last_output and the state
    are those of the last valid step. BlockLSTM, not BlockLSTMV2 (which would
    take Keras' gate order as it is): V2's gradient is wrong in the TensorFlow
    versions textrnn supports (tests/test_model.py checks this kernel's).
    """
    batch, steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    if mask is None:
        lengths = tf.fill([batch], steps)
        mask = tf.ones([batch, steps], tf.bool)
    else:
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    if go_backwards:
        inputs = tf.reverse_sequence(inputs, lengths, seq_axis=1, batch_axis=0)
    units = tf.shape(recurrent_kernel)[0]
    weights = _icfo(tf.concat([kernel, recurrent_kernel], axis=0))
    no_peephole = tf.zeros([units], inputs.dtype)
    _, cells, _, _, _, _, hidden = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(steps, tf.int64), x=tf.transpose(inputs, [1, 0, 2]),
        cs_prev=c0, h_prev=h0, w=tf.cast(weights, inputs.dtype), wci=no_peephole,
        wcf=no_peephole, wco=no_peephole, b=tf.cast(_icfo(bias), inputs.dtype),
        forget_bias=0.0, cell_clip=-1.0, use_peephole=False)
    outputs = tf.transpose(hidden, [1, 0, 2])
    last = tf.maximum(lengths - 1, 0)
    h = tf.gather(outputs, last, batch_dims=1)
    c = tf.gather(tf.transpose(cells, [1, 0, 2]), last, batch_dims=1)
    outputs = outputs * tf.cast(mask, outputs.dtype)[:, :, None]
    if go_backwards:
        # Back to Keras' layout for a backward layer (see its cuDNN path).
        outputs = tf.reverse(tf.reverse_sequence(outputs, lengths, seq_axis=1, batch_axis=0), [1])
    return h, outputs, [h, c]
