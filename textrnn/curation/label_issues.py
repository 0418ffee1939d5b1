"""Texts whose label is probably wrong: confident learning on out-of-fold probabilities.

`out_of_fold` cross-fits the recipe's wide path (character 1-3-gram TF-IDF and,
with `words`, jieba words, each text cut once; the linear SVM, CROSS_FIT_EPOCHS
epochs), keeping the n-grams of at least CROSS_FIT_MIN_DF training texts: an
n-gram of one text can only memorise that text's label, and it is the wrong
labels the models must not learn by heart. The texts are split into `folds`
stratified, seeded folds, and each fold is scored by a model whose n-grams, IDF
and weights were fitted on the other folds only, so no text is scored by a
model that saw it. One softmax temperature, fitted on all the out-of-fold
scores by log-loss, turns the scores into probabilities.

The SVM's C is chosen on the first fold, there being no val: the texts held out
of it score each C of the wide path's grid by accuracy against their given
labels, and the smallest C within one standard error of the best is kept (the
one-standard-error rule). Given labels that are partly wrong, the most
regularised of the models the held-out texts cannot tell apart memorises fewest
of the wrong labels it trains on, and those are the labels it must then doubt.

`find` then runs cleanlab's `find_label_issues` (confident learning: Northcutt et
al. 2021; per-class thresholds at the mean self-confidence, the issues ranked
by self-confidence, the probability of the given label), cleanlab being a
well-kept implementation of it (`pip install 'textrnn[audit]'`).

`out_of_fold_estimator` cross-fits any classifier with scikit-learn's
interface instead (fit, predict_proba, classes_, get_params), such as
textrnn.TextClassifier: the whole recipe, recurrent model and wide path, for a
small corpus, where its five trainings are affordable.

Classes with fewer texts than folds cannot be cross-fitted: their texts are
left out and the classes named.
"""

import dataclasses
import os
import tempfile

import numpy as np

from textrnn.util.console import say
from textrnn.util.errors import UserError

# Half the recipe's epochs: confident learning needs the texts ranked, not the objective's
# last digits, and the cross-fitting trains a model a fold.
CROSS_FIT_EPOCHS = 10
CROSS_FIT_MIN_DF = 2


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


def out_of_fold(texts, labels, folds=5, seed=1, words=True, max_ngrams=None, min_df=None,
                c=None):
    """[texts, classes] out-of-fold probabilities and the classes (sorted); texts of a
    class with fewer than `folds` texts get NaN rows. `c`: the SVM's C, or None to
    choose it on the first fold (`choose_c`)."""
    import dataclasses as fields_of
    from textrnn.training.config import TrainConfig
    defaults = {f.name: f.default for f in fields_of.fields(TrainConfig)}
    max_ngrams = max_ngrams or defaults["wide_max_ngrams"]
    min_df = min_df or CROSS_FIT_MIN_DF
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
        for k, (held, kept) in enumerate(_each_fold(fold, folds)):
            fitting = Fitting([texts[i] for i in kept], [labels[i] for i in kept], categories,
                              cut, max_ngrams, min_df, seed, os.path.join(tmp, str(k)))
            held_texts = [texts[i] for i in held]
            if c is None:
                c, fitted = choose_c(fitting, held_texts, [labels[i] for i in held])
            else:
                fitted = fitting.solve(c)
            scores[held] = fitted.scores(held_texts)
    return _softmax_fitted(scores, np.array([classes.index(l) for l in labels])), classes


def out_of_fold_estimator(estimator, texts, labels, folds=5, seed=1):
    """out_of_fold's result from a fresh copy of `estimator` (scikit-learn's interface:
    `type(estimator)(**estimator.get_params())`, its model_dir unset so that each fold
    trains from scratch) fitted on each fold's other folds."""
    classes = sorted(set(labels))
    out = np.full((len(texts), len(classes)), np.nan)
    for held, kept in _each_fold(folds_of(labels, folds, seed), folds):
        params = estimator.get_params()
        if "model_dir" in params:
            params["model_dir"] = None
        model = type(estimator)(**params).fit([texts[i] for i in kept],
                                              [labels[i] for i in kept])
        columns = [list(model.classes_).index(c) for c in classes]
        out[held] = np.asarray(model.predict_proba([texts[i] for i in held]))[:, columns]
    return out, classes


def _each_fold(fold, folds):
    """(held-out indices, training indices) of each fold of `fold` (a fold a text), its
    progress said."""
    for k in range(folds):
        say(f"audit: cross-fitting fold {k + 1} of {folds}")
        yield np.flatnonzero(fold == k), np.flatnonzero(fold != k)


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


def choose_c(fitting, texts, labels):
    """(C, the model solved at it): the smallest C of the grid whose accuracy on the
    held-out `texts` against their `labels` is within one standard error of the best
    C's (the grid searched from its middle outward, then down from the best)."""
    from textrnn.training.wide import linear
    grid = fitting.cfg.c_grid
    models, accuracy = {}, {}

    def score(i):
        models[i] = fitting.solve(grid[i])
        accuracy[i] = float(np.mean(np.array(models[i].predict(texts)) == np.array(labels)))
        return accuracy[i]

    linear.search_grid(len(grid), score)
    best = linear.best_point(accuracy)
    error = np.sqrt(accuracy[best] * (1 - accuracy[best]) / len(texts))
    chosen = best
    for i in range(best - 1, -1, -1):
        if (accuracy[i] if i in accuracy else score(i)) < accuracy[best] - error:
            break
        chosen = i
    say(f"audit: C={grid[chosen]:g} for the cross-fitting: the smallest C within one "
        f"standard error ({error:.4f}) of the best accuracy on the first fold's held-out "
        f"texts ({accuracy[best]:.4f} at C={grid[best]:g})")
    return grid[chosen], models[chosen]


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
        placeholder = [_labels_of(self.categories)[0]] * len(texts)
        scored, _ = linear.predict_scores(self.model, linear.batches(
            _lines(texts, placeholder), self.featurizer, self.encoder, 1024))
        return scored

    def predict(self, texts):
        """The label of the highest score of each text."""
        names = _labels_of(self.categories)
        return [names[i] for i in np.argmax(self.scores(texts), axis=1)]


class Fitting:
    """The recipe's wide path on lists of texts and labels, up to the SVM: its n-grams
    and IDF fitted (the table written into the folder `out`), the texts featurized once;
    `solve(c)` then trains the SVM at any C. `categories`: a categories.txt holding
    every label; `cut`: the segmenter of the word features, or None."""

    def __init__(self, texts, labels, categories, cut=None, max_ngrams=1_000_000, min_df=1,
                 seed=1, out=None):
        from textrnn.features.encoding import LabelEncoder
        from textrnn.training.wide import linear, ngrams
        os.makedirs(out, exist_ok=True)
        table, idf, _ = ngrams.fit(_lines(texts, labels).batch(1024).map(_texts_of),
                                   max_ngrams, min_df, total=len(texts), segmenter=cut)
        ngrams.write_table(os.path.join(out, ngrams.NGRAMS_FILE), table, idf)
        self.featurizer = ngrams.NgramFeaturizer(os.path.join(out, ngrams.NGRAMS_FILE),
                                                 segmenter=cut)
        self.encoder = LabelEncoder(categories)
        self.categories, self.num_texts = categories, len(texts)
        self.cfg = linear.WideConfig(seed=seed, epochs=CROSS_FIT_EPOCHS)
        self.batches = linear.training_batches(_lines(texts, labels), self.featurizer,
                                               self.encoder, len(texts), "the other folds",
                                               self.cfg)
        self.orders = linear.epoch_orders(len(self.batches), self.cfg.epochs_for(len(texts)),
                                          self.cfg)

    def solve(self, c):
        """The SVM at C = c, as a Wide."""
        from textrnn.training.wide import linear
        model, _ = linear.solve(c, self.batches, self.orders, self.featurizer.num_features,
                                self.encoder.num_classes, self.num_texts, self.cfg)
        return Wide(model, self.featurizer, self.encoder, self.categories)


def _texts_of(batch):
    from textrnn.features import data
    return data.fields(batch)[1]


def _labels_of(categories):
    """The labels of a categories.txt, in the order of their ids."""
    with open(categories, encoding="utf-8") as stream:
        return [line.rstrip("\n") for line in stream]


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


def audit_labels(texts, labels, folds=5, seed=1, words=True, estimator=None):
    """Issues of `texts` and `labels`: cross-fitting (classes too small for `folds` folds
    are named and skipped) of the wide path, or of `estimator` when given
    (`out_of_fold_estimator`), then confident learning."""
    counts = {label: labels.count(label) for label in set(labels)}
    small = sorted(label for label, n in counts.items() if n < folds)
    if small:
        say(f"audit: {', '.join(small)}: fewer than {folds} texts, too few to cross-fit; "
            "their texts are not checked for label issues")
    kept = [i for i, label in enumerate(labels) if label not in small]
    if len({labels[i] for i in kept}) < 2:
        raise UserError(f"label issues need at least two classes of {folds} or more texts "
                        f"(--folds={folds})")
    kept_texts, kept_labels = [texts[i] for i in kept], [labels[i] for i in kept]
    if estimator is None:
        probabilities, classes = out_of_fold(kept_texts, kept_labels, folds, seed, words)
    else:
        probabilities, classes = out_of_fold_estimator(estimator, kept_texts, kept_labels,
                                                       folds, seed)
    issues = find([labels[i] for i in kept], probabilities, classes)
    full = np.full((len(texts), len(classes)), np.nan)
    full[kept] = probabilities
    return dataclasses.replace(issues, index=[kept[i] for i in issues.index],
                               probabilities=full, skipped_classes=small)
