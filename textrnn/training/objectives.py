"""What a training step minimises and counts: one label a text (softmax) or several (sigmoid).

Both objectives take the model's float32 logits and the label encoder's
targets (class ids, or 0/1 rows for several labels) and give

- `loss`: (what the gradient follows, with label smoothing; the plain loss), per example;
- `counts`: the sums a log line or an evaluation is made of (added over batches
  and replicas);
- `summary`: (loss, score) from those sums, the score named by `metric`.
"""

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

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def loss(self, logits, targets):
        per_example = tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits), axis=-1)
        if not self.label_smoothing:
            return per_example, per_example
        smooth = targets * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=smooth, logits=logits), axis=-1), per_example

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


def objective(label_encoder, label_smoothing):
    """The objective of a model whose targets come from `label_encoder`."""
    kind = MultiLabel if label_encoder.multi_label else SingleLabel
    return kind(label_smoothing)
