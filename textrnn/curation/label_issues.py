"""Texts whose label is probably wrong: confident learning on out-of-fold probabilities.

`out_of_fold` cross-fits the recipe's wide path (character 1-3-gram TF-IDF and,
with `words`, jieba words, each text cut once; the linear SVM at C = CROSS_FIT_C,
CROSS_FIT_EPOCHS epochs): the texts are
split into `folds` stratified, seeded folds, and each fold is scored by a model
whose n-grams, IDF and weights were fitted on the other folds only, so no text is
scored by a model that saw it. One softmax temperature, fitted on all the
out-of-fold scores by log-loss, turns the scores into probabilities.

`find` then runs cleanlab's `find_label_issues` (confident learning: Northcutt et
al. 2021; per-class thresholds at the mean self-confidence, the issues ranked
by self-confidence, the probability of the given label), cleanlab being a
well-kept implementation of it (`pip install 'textrnn[audit]'`).

Classes with fewer texts than folds cannot be cross-fitted: their texts are
left out and the classes named.
"""

import dataclasses
import os
import tempfile

import numpy as np

from textrnn.util.console import say
from textrnn.util.errors import UserError

CROSS_FIT_C = 1.0  # the middle of the wide path's grid: no val to choose it on here
# Half the recipe's epochs: confident learning needs the texts ranked, not the objective's
# last digits, and the cross-fitting trains a model a fold.
CROSS_FIT_EPOCHS = 10


@dataclasses.dataclass
class Issues:
    """Label issues, ranked most likely first: `index` into the audited texts, the given
    and suggested label, and the given label's out-of-fold probability (`score`)."""
    index: list
    given: list
    suggested: list
    score: list
    classes: list
    probabilities: np.ndarray   # [texts, classes], NaN rows for the texts left out
    skipped_classes: list


def folds_of(labels, folds, seed):
    """Each text's fold: within each class, a seeded shuffle dealt round-robin."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), np.int64)
    for label in sorted(set(labels)):
        members = np.flatnonzero(np.asarray(labels) == label)
        fold[rng.permutation(members)] = np.arange(len(members)) % folds
    return fold


def out_of_fold(texts, labels, folds=5, seed=1, words=True, max_ngrams=None, min_df=None):
    """[texts, classes] out-of-fold probabilities and the classes (sorted); texts of a
    class with fewer than `folds` texts get NaN rows."""
    import dataclasses as fields_of
    from textrnn.training.config import TrainConfig
    defaults = {f.name: f.default for f in fields_of.fields(TrainConfig)}
    max_ngrams = max_ngrams or defaults["wide_max_ngrams"]
    min_df = min_df or defaults["wide_min_df"]
    classes = sorted(set(labels))
    fold = folds_of(labels, folds, seed)
    scores = np.full((len(texts), len(classes)), np.nan, np.float32)
    with tempfile.TemporaryDirectory(prefix="textrnn-audit-") as tmp:
        categories = os.path.join(tmp, "categories.txt")
        with open(categories, "w", encoding="utf-8", newline="\n") as out:
            out.writelines(f"{c}\n" for c in classes)
        from textrnn.training.wide import ngrams
        os.makedirs(os.path.join(tmp, "words"))
        cut = _CutOnce(ngrams.word_segmenter(os.path.join(tmp, "words"))[0], texts) \
            if words else None
        for k in range(folds):
            say(f"audit: cross-fitting fold {k + 1} of {folds}")
            held = np.flatnonzero(fold == k)
            kept = np.flatnonzero(fold != k)
            scores[held] = _fold_scores([texts[i] for i in kept], [labels[i] for i in kept],
                                        [texts[i] for i in held], categories, cut,
                                        max_ngrams, min_df, seed, os.path.join(tmp, str(k)))
    return _softmax_fitted(scores, np.array([classes.index(l) for l in labels])), classes


class _CutOnce:
    """A segmenter's words of a fixed set of texts, cut once and looked up after: each
    fold's n-gram fit and featurizing would otherwise cut every text again, and the
    in-graph cut is most of their time. Called as the featurizer calls its segmenter,
    on texts' characters joined without whitespace."""

    SEPARATOR = "\x1f"  # no text holds it: prepared lines keep no control characters

    def __init__(self, segmenter, texts):
        import tensorflow as tf
        from textrnn.features import encoding
        keys = sorted({k for i in range(0, len(texts), 1024) for k in tf.strings.reduce_join(
            encoding.characters(tf.constant(texts[i:i + 1024])), axis=1).numpy()})
        values = [tf.strings.reduce_join(segmenter(tf.constant(keys[i:i + 1024])),
                                         axis=1, separator=self.SEPARATOR).numpy()
                  for i in range(0, len(keys), 1024)]
        self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(keys, tf.string), tf.constant(np.concatenate(values)), tf.string,
            tf.string), default_value="")

    def __call__(self, joined):
        import tensorflow as tf
        words = tf.strings.split(self.table.lookup(joined), self.SEPARATOR)
        return tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)


def _lines(texts, labels):
    import tensorflow as tf
    from textrnn.text.formats import one_line
    return tf.data.Dataset.from_tensor_slices(
        [f"{label}\t{one_line(text)}" for label, text in zip(labels, texts)])


def _fold_scores(texts, labels, held, categories, cut, max_ngrams, min_df, seed, out):
    """SVM scores of `held` by the wide path fitted on `texts`, `labels` (`cut`: the
    jieba segmenter of its word features, or None)."""
    fitted = train_wide(texts, labels, categories, cut, max_ngrams, min_df, seed, out)
    return fitted.scores(held)


@dataclasses.dataclass
class Wide:
    """A wide path fitted on lists of texts: its model, featurizer and label encoder."""
    model: object
    featurizer: object
    encoder: object
    categories: str

    def scores(self, texts):
        """[texts, classes] SVM scores."""
        from textrnn.training.wide import linear
        placeholder = [_first_label(self.categories)] * len(texts)
        scored, _ = linear.predict_scores(self.model, linear.batches(
            _lines(texts, placeholder), self.featurizer, self.encoder, 1024))
        return scored


def train_wide(texts, labels, categories, cut=None, max_ngrams=1_000_000, min_df=1, seed=1,
               out=None):
    """The recipe's wide path (n-grams, IDF, the SVM at CROSS_FIT_C) fitted on lists of
    texts and labels; `categories` a categories.txt holding every label; its n-gram
    table written into the folder `out`."""
    from textrnn.features.encoding import LabelEncoder
    from textrnn.training.wide import linear, ngrams
    os.makedirs(out, exist_ok=True)
    table, idf, _ = ngrams.fit(_lines(texts, labels).batch(1024).map(_texts_of), max_ngrams,
                               min_df, total=len(texts), segmenter=cut)
    ngrams.write_table(os.path.join(out, ngrams.NGRAMS_FILE), table, idf)
    featurizer = ngrams.NgramFeaturizer(os.path.join(out, ngrams.NGRAMS_FILE), segmenter=cut)
    encoder = LabelEncoder(categories)
    cfg = linear.WideConfig(seed=seed, epochs=CROSS_FIT_EPOCHS)
    batches = linear.training_batches(_lines(texts, labels), featurizer, encoder, len(texts),
                                      "the other folds", cfg)
    orders = linear.epoch_orders(len(batches), cfg.epochs_for(len(texts)), cfg)
    model, _ = linear.solve(CROSS_FIT_C, batches, orders, featurizer.num_features,
                            encoder.num_classes, len(texts), cfg)
    return Wide(model, featurizer, encoder, categories)


def _texts_of(batch):
    from textrnn.features import data
    return data.fields(batch)[1]


def _first_label(categories):
    with open(categories, encoding="utf-8") as stream:
        return stream.readline().rstrip("\n")


def _softmax_fitted(scores, ids):
    """Softmax probabilities of the scores at the temperature of the lowest log-loss over
    the rows that have scores."""
    from textrnn.training.metrics import log_loss
    from textrnn.training.wide import linear
    rows = ~np.isnan(scores).any(axis=1)
    losses = [log_loss(linear.softmax(scores[rows], t), ids[rows]) for t in linear.TEMPERATURES]
    temperature = float(linear.TEMPERATURES[int(np.argmin(losses))])
    out = np.full(scores.shape, np.nan, np.float64)
    out[rows] = linear.softmax(scores[rows].astype(np.float64), temperature)
    return out


def find(labels, probabilities, classes):
    """Issues among the texts of `labels` from their out-of-fold `probabilities`."""
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        raise UserError("finding label issues needs cleanlab: pip install 'textrnn[audit]' "
                        "(or pip install cleanlab)") from None
    ids = np.array([classes.index(l) for l in labels])
    rows = np.flatnonzero(~np.isnan(probabilities).any(axis=1))
    p = probabilities[rows]
    ranked = find_label_issues(ids[rows], p, return_indices_ranked_by="self_confidence")
    index = [int(rows[i]) for i in ranked]
    return Issues(index=index, given=[labels[i] for i in index],
                  suggested=[classes[int(np.argmax(probabilities[i]))] for i in index],
                  score=[float(probabilities[i, ids[i]]) for i in index], classes=classes,
                  probabilities=probabilities, skipped_classes=[])


def audit_labels(texts, labels, folds=5, seed=1, words=True):
    """Issues of `texts` and `labels`: cross-fitting (classes too small for `folds` folds
    are named and skipped), then confident learning."""
    counts = {label: labels.count(label) for label in set(labels)}
    small = sorted(label for label, n in counts.items() if n < folds)
    if small:
        say(f"audit: {', '.join(small)}: fewer than {folds} texts, too few to cross-fit; "
            "their texts are not checked for label issues")
    kept = [i for i, label in enumerate(labels) if label not in small]
    if len({labels[i] for i in kept}) < 2:
        raise UserError(f"label issues need at least two classes of {folds} or more texts "
                        f"(--folds={folds})")
    probabilities, classes = out_of_fold([texts[i] for i in kept], [labels[i] for i in kept],
                                         folds, seed, words)
    issues = find([labels[i] for i in kept], probabilities, classes)
    full = np.full((len(texts), len(classes)), np.nan)
    full[kept] = probabilities
    return dataclasses.replace(issues, index=[kept[i] for i in issues.index],
                               probabilities=full, skipped_classes=small)
