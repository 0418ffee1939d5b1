"""The served outputs computed in the graph from the [batch, classes] probabilities.

One label a text: `probabilities`, `class_id`, `label`; with a calibration
(training/calibration.py's Served) the probabilities are the calibrated ones and
`label_set`, `set_size`, `confidence` and `abstain` come with them. Several labels
a text: `probabilities` (calibrated too, when training calibrated them), `labels`,
`num_labels`, `thresholds`.

Label lists (`label_set`, `labels`) are dense [batch, classes] string tensors: a
row's labels, most probable first, then empty strings. The fixed width makes a
row read the same whatever batch it was served in, and TF Serving's JSON carries
it as it is.
"""

import tensorflow as tf

from textrnn.training.calibration import TINY, temper_labels


def single_label(probabilities, label_encoder, served=None):
    """The outputs of a single-label model; `served`: a calibration.Served, or None for
    the probabilities as the members give them (models without a calibration)."""
    if served is not None:
        probabilities = calibrated(probabilities, served.temperature)
    class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
    label = label_encoder.labels(class_id)
    out = {"probabilities": probabilities, "class_id": class_id, "label": label}
    if served is None:
        return out
    top = tf.cast(tf.one_hot(class_id, tf.shape(probabilities)[-1]), tf.bool)
    in_set = tf.logical_or(probabilities >= served.floor, top)
    out["label_set"], out["set_size"] = _ranked(probabilities, in_set, label_encoder)
    out["confidence"] = tf.reduce_max(probabilities, axis=-1)
    threshold = served.abstain.threshold if served.abstain else 0.0
    out["abstain"] = out["confidence"] < threshold
    if served.abstain_label:
        out["label"] = tf.where(out["abstain"], served.abstain_label, label)
    return out


def calibrated(probabilities, temperature):
    """softmax(log p / T) over the last axis: the served probabilities of a calibrated
    single-label model."""
    return tf.nn.softmax(tf.math.log(tf.maximum(probabilities, TINY)) / temperature, axis=-1)


def label_sets(probabilities, thresholds, label_encoder, temperature=None):
    """A multi-label model's outputs: each row's labels at or above their thresholds
    (`labels`, `num_labels`), and the thresholds repeated on every row. With a
    `temperature` the probabilities served are calibrated, sigmoid(logit p / T), and the
    thresholds shown moved with them; the decisions are taken before, as trained."""
    limits = tf.constant(thresholds.per_label, tf.float32)
    chosen = probabilities >= limits
    if thresholds.top_label:
        top = tf.argmax(probabilities, axis=-1)
        chosen = tf.logical_or(chosen, tf.cast(tf.one_hot(top, tf.shape(probabilities)[-1]),
                                               tf.bool))
    if temperature is not None:
        p = tf.clip_by_value(probabilities, TINY, 1.0 - 1e-7)
        probabilities = tf.sigmoid((tf.math.log(p) - tf.math.log1p(-p)) / temperature)
        limits = tf.constant(temper_labels(thresholds.per_label, temperature), tf.float32)
    labels, count = _ranked(probabilities, chosen, label_encoder)
    return {"probabilities": probabilities, "labels": labels, "num_labels": count,
            "thresholds": tf.broadcast_to(limits, tf.shape(probabilities))}


def _ranked(probabilities, chosen, label_encoder):
    """([batch, classes] names of the chosen labels, most probable first, then empty
    strings; [batch] their number)."""
    # by probability, then the chosen first (a stable sort keeps each group's order)
    by_probability = tf.argsort(probabilities, axis=-1, direction="DESCENDING", stable=True)
    chosen_first = tf.argsort(tf.cast(tf.gather(chosen, by_probability, batch_dims=1),
                                      tf.int32), axis=-1, direction="DESCENDING", stable=True)
    order = tf.gather(by_probability, chosen_first, batch_dims=1)
    names = label_encoder.labels(tf.cast(order, tf.int64))
    return (tf.where(tf.gather(chosen, order, batch_dims=1), names, ""),
            tf.reduce_sum(tf.cast(chosen, tf.int32), axis=-1))
