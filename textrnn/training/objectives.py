"""What a training step minimises and counts: one label a text (softmax) or several (sigmoid).

Both objectives take the model's float32 logits and the label encoder's
targets (class ids, or 0/1 rows for several labels) and give

- `loss`: (what the gradient follows, with label smoothing; the plain loss), per example;
- `counts`: the sums a log line or an evaluation is made of (added over batches
  and replicas);
- `summary`: (loss, score) from those sums, the score named by `metric`.
"""

import numpy as np
import tensorflow as tf


class SingleLabel:
    """Softmax cross-entropy; scored by accuracy (the original's objective)."""

    metric = "accuracy"
    sums = ("loss", "correct", "examples")

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def loss(self, logits, labels):
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        if not self.label_smoothing:
            return per_example, per_example
        classes = tf.cast(tf.shape(logits)[-1], tf.float32)
        smooth = (tf.one_hot(labels, tf.shape(logits)[-1]) * (1 - self.label_smoothing)
                  + self.label_smoothing / classes)
        return tf.nn.softmax_cross_entropy_with_logits(labels=smooth, logits=logits), per_example

    def counts(self, logits, labels, per_example):
        correct = tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels)
        return dict(loss=tf.reduce_sum(per_example),
                    correct=tf.reduce_sum(tf.cast(correct, tf.float32)),
                    examples=tf.cast(tf.size(labels), tf.float32))

    @staticmethod
    def summary(sums):
        count = max(sums["examples"], 1.0)
        return sums["loss"] / count, sums["correct"] / count


class MultiLabel:
    """Binary cross-entropy of each label's sigmoid, averaged over the labels; scored by
    micro-F1 at probability 0.5 (the thresholds proper are chosen on val after training).

    Label smoothing moves each 0/1 target toward 0.5 by half the smoothing, as
    Keras' binary cross-entropy does.
    """

    metric = "micro_f1"
    sums = ("loss", "tp", "fp", "fn", "examples")

    def __init__(self, label_smoothing=0.0, positive_weights=None):
        self.label_smoothing = label_smoothing
        # one a label: what a positive decision weighs in the objective (None: 1)
        self.positive_weights = positive_weights

    def loss(self, logits, targets):
        per_example = tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits), axis=-1)
        if not self.label_smoothing and self.positive_weights is None:
            return per_example, per_example
        smooth = targets * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.positive_weights is None:
            return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=smooth, logits=logits), axis=-1), per_example
        weights = tf.constant(self.positive_weights, tf.float32)
        return tf.reduce_mean(tf.nn.weighted_cross_entropy_with_logits(
            labels=smooth, logits=logits, pos_weight=weights), axis=-1), per_example

    def counts(self, logits, targets, per_example):
        predicted = tf.cast(logits >= 0.0, tf.float32)  # probability >= 0.5
        return dict(loss=tf.reduce_sum(per_example),
                    tp=tf.reduce_sum(predicted * targets),
                    fp=tf.reduce_sum(predicted * (1 - targets)),
                    fn=tf.reduce_sum((1 - predicted) * targets),
                    examples=tf.cast(tf.shape(targets)[0], tf.float32))

    @staticmethod
    def summary(sums):
        decided = 2 * sums["tp"] + sums["fp"] + sums["fn"]
        return (sums["loss"] / max(sums["examples"], 1.0),
                2 * sums["tp"] / decided if decided else 0.0)


def objective(label_encoder, label_smoothing, positive_weight="none", label_rates=None):
    """The objective of a model whose targets come from `label_encoder`; several labels a
    text with positive_weight "sqrt": a label's positives weigh sqrt(negatives /
    positives) of train (`label_rates`, each label's share of the train texts)."""
    if not label_encoder.multi_label:
        return SingleLabel(label_smoothing)
    weights = None
    if positive_weight == "sqrt":
        weights = np.sqrt((1 - label_rates) / label_rates).astype(np.float32)
    return MultiLabel(label_smoothing, weights)


def label_rates(model_dir, labels):
    """Each label's share of the train texts (from the manifest), kept off 0 and 1."""
    from textrnn.text import prepared
    train = prepared.read(model_dir).record["splits"]["train"]  # the model dir keeps a copy
    rates = np.array([train["labels"].get(label, 0) for label in labels], np.float64)
    return np.clip(rates / max(train["lines"], 1), 1e-4, 1 - 1e-4)


def prior_logits(rates):
    """The labels' log-odds: where a multi-label head's biases start, so that it starts at
    the labels' base rates rather than at probability 0.5 for every label (which the first
    hundreds of steps would otherwise spend unlearning, most labels being rare)."""
    return np.log(rates / (1 - rates)).astype(np.float32)
