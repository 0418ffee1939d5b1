"""Scores of predictions, one definition each, for training, the wide path, the mixture
and textrnn-evaluate.

One label a text: accuracy of the top class; per class precision, recall, F1, support
and the confusion matrix (rows: true class); macro-F1 the mean of the classes' F1.
Several labels a text: micro-F1 over all (text, label) decisions, macro-F1 as the mean
of per-label F1 (over the labels with a positive in the file, and over all), exact
match (the whole set right), Hamming loss (the share of wrong decisions).
Calibration: expected calibration error (ECE) of the probabilities against how often
they are right, over equal-width and equal-mass bins, the Brier score and the log-loss.
"""

import numpy as np


def accuracy(scores, labels):
    """The share of rows whose highest score is their label id."""
    return float((np.asarray(scores).argmax(-1) == np.asarray(labels)).mean()) if len(labels) \
        else 0.0


def classes(true_ids, predicted_ids, num_classes):
    """Accuracy, macro-F1 and per-class figures of predicted class ids."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(true_ids, np.int64), np.asarray(predicted_ids, np.int64)), 1)
    tp = np.diag(matrix).astype(np.float64)
    support, predicted = matrix.sum(1).astype(np.float64), matrix.sum(0).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp),
                   where=precision + recall > 0)
    return dict(
        examples=int(support.sum()),
        accuracy=float(tp.sum() / max(support.sum(), 1.0)),
        macro_f1=float(f1.mean()) if num_classes else 0.0,
        precision=precision.tolist(), recall=recall.tolist(), f1=f1.tolist(),
        support=support.astype(int).tolist(), confusion_matrix=matrix.tolist())


def _counts(truth, predicted):
    truth, predicted = truth.astype(bool), predicted.astype(bool)
    tp = (truth & predicted).sum(0).astype(np.float64)
    fp = (~truth & predicted).sum(0).astype(np.float64)
    fn = (truth & ~predicted).sum(0).astype(np.float64)
    return tp, fp, fn


def _f1(tp, fp, fn):
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def micro_f1(truth, predicted):
    tp, fp, fn = _counts(truth, predicted)
    return float(_f1(tp.sum(), fp.sum(), fn.sum()))


def label_sets(truth, predicted):
    """Every figure of a set of decisions against the true 0/1 rows."""
    tp, fp, fn = _counts(truth, predicted)
    support = tp + fn
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = _f1(tp, fp, fn)
    present = support > 0
    n = max(len(truth), 1)
    return dict(
        examples=len(truth),
        micro_f1=float(_f1(tp.sum(), fp.sum(), fn.sum())),
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        macro_f1_all_labels=float(f1.mean()) if len(f1) else 0.0,
        labels_present=int(present.sum()),
        exact_match=float((truth.astype(bool) == predicted.astype(bool)).all(1).sum() / n),
        hamming_loss=float((truth.astype(bool) != predicted.astype(bool)).mean())
        if truth.size else 0.0,
        precision=precision.tolist(), recall=recall.tolist(), f1=f1.tolist(),
        support=support.astype(int).tolist(),
        predicted=(tp + fp).astype(int).tolist(),
    )


ECE_BINS = 15


def log_loss(p, labels, floor=1e-12):
    """Mean cross-entropy of probabilities `p`: of the true class (class ids), or of every
    label's binary decision (0/1 rows); probabilities below `floor` count as `floor`."""
    p = np.asarray(p, np.float64)
    labels = np.asarray(labels)
    if labels.ndim == 2:
        p = np.clip(p, floor, 1 - 1e-12)
        return float(-(labels * np.log(p) + (1 - labels) * np.log(1 - p)).mean())
    if not len(labels):
        return 0.0
    return float(-np.log(np.maximum(p[np.arange(len(labels)), labels], floor)).mean())


def calibration(probabilities, labels, bins=ECE_BINS):
    """How far one label a text's probabilities are from frequencies: expected calibration
    error of the top class's probability (`bins` equal-width bins, and equal-mass bins of
    as many texts each), the Brier score (mean squared distance to the one-hot row) and
    the log-loss; with the reliability bins for a diagram."""
    p = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels, np.int64)
    confidence, correct = p.max(1), (p.argmax(1) == labels).astype(np.float64)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(labels)), labels] = 1.0
    return dict(
        ece=expected_calibration_error(confidence, correct, bins),
        ece_equal_mass=expected_calibration_error(confidence, correct, bins, equal_mass=True),
        brier=float(((p - onehot) ** 2).sum(1).mean()) if len(p) else 0.0,
        log_loss=log_loss(p, labels),
        reliability=reliability(confidence, correct, bins))


def label_calibration(probabilities, truth, bins=ECE_BINS):
    """calibration's figures for several labels a text, each (text, label) a decision
    of its own (micro over labels): a label's probability against whether it is given."""
    p = np.asarray(probabilities, np.float64).ravel()
    y = np.asarray(truth, np.float64).ravel()
    return dict(
        ece=expected_calibration_error(p, y, bins),
        ece_equal_mass=expected_calibration_error(p, y, bins, equal_mass=True),
        brier=float(((p - y) ** 2).mean()) if len(p) else 0.0,
        log_loss=float(-(y * np.log(np.clip(p, 1e-12, 1)) +
                         (1 - y) * np.log(np.clip(1 - p, 1e-12, 1))).mean()) if len(p) else 0.0,
        reliability=reliability(p, y, bins))


def _bins(confidence, bins, equal_mass):
    """The bin of each confidence: equal-width bins over [0, 1], or bins of equal counts
    in the order of confidence."""
    if equal_mass:
        order = np.argsort(confidence, kind="stable")
        index = np.empty(len(confidence), np.int64)
        index[order] = np.arange(len(confidence)) * bins // max(len(confidence), 1)
        return index
    return np.minimum((confidence * bins).astype(np.int64), bins - 1)


def expected_calibration_error(confidence, outcome, bins=ECE_BINS, equal_mass=False):
    """Sum over bins of (share of the texts in the bin) x |mean outcome - mean confidence|:
    outcome is 1 where the answer was right (or the label given), else 0."""
    confidence, outcome = np.asarray(confidence, np.float64), np.asarray(outcome, np.float64)
    if not len(confidence):
        return 0.0
    index = _bins(confidence, bins, equal_mass)
    total = 0.0
    for b in np.unique(index):
        members = index == b
        total += members.mean() * abs(outcome[members].mean() - confidence[members].mean())
    return float(total)


def reliability(confidence, outcome, bins=ECE_BINS):
    """The equal-width bins with texts in them: count, mean confidence, mean outcome."""
    confidence, outcome = np.asarray(confidence, np.float64), np.asarray(outcome, np.float64)
    index = _bins(confidence, bins, equal_mass=False)
    return [dict(low=b / bins, high=(b + 1) / bins, count=int((index == b).sum()),
                 confidence=float(confidence[index == b].mean()),
                 accuracy=float(outcome[index == b].mean()))
            for b in range(bins) if (index == b).any()]


def prediction_sets(in_set, labels):
    """Empirical coverage (share of texts whose set holds the true label) and mean set
    size of [n, classes] set membership."""
    in_set, labels = np.asarray(in_set, bool), np.asarray(labels, np.int64)
    if not len(labels):
        return dict(coverage=0.0, mean_set_size=0.0)
    return dict(coverage=float(in_set[np.arange(len(labels)), labels].mean()),
                mean_set_size=float(in_set.sum(1).mean()))


def selective(answered, correct):
    """Abstaining scored: the share answered and the accuracy of the answered (None when
    none is)."""
    answered, correct = np.asarray(answered, bool), np.asarray(correct, bool)
    return dict(answered=float(answered.mean()) if len(answered) else 0.0,
                answered_accuracy=float(correct[answered].mean()) if answered.any() else None)


def accuracy_coverage(confidence, correct, points=20):
    """The accuracy of the most confident texts at `points` shares answered (coverage
    1/points .. 1): the accuracy-coverage curve of abstaining by confidence."""
    confidence, correct = np.asarray(confidence, np.float64), np.asarray(correct, np.float64)
    if not len(confidence):
        return []
    ranked = correct[np.argsort(-confidence, kind="stable")]
    right = np.cumsum(ranked)
    out = []
    for i in range(1, points + 1):
        n = max(1, round(len(ranked) * i / points))
        out.append(dict(coverage=n / len(ranked), accuracy=float(right[n - 1] / n),
                        threshold=float(np.sort(confidence)[::-1][n - 1])))
    return out
