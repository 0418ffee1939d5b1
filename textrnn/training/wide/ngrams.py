"""Character n-gram (and word) TF-IDF features, in the graph: the wide path's input.

    text -> characters (whitespace dropped) -> 1..3-grams  \
                                            -> jieba words  -> ids (ngrams.txt)
         -> sublinear TF x IDF -> L2-normalised row of a SparseTensor

The featurizer is a tf.Module, so the exported SavedModel computes the same
features from raw text that training computed from the prepared files
(whose tokens joined without spaces are the raw text's characters, whatever
the tokenizer). The n-gram list and its IDF are fitted on train only, by
`fit`, which enumerates n-grams with the featurizer's own ops so there is
one definition of an n-gram, not a Python copy of it.

`ngrams.txt`: one `ngram<TAB>idf` a line, line number == feature id.
IDF is scikit-learn's smoothed form, ln((1 + n) / (1 + df)) + 1.

Words: with a segmenter (textrnn.text.segmenter, jieba's cut in TensorFlow ops),
the words of a text's characters joined without whitespace are features too,
written with a leading space (WORD_MARK) so that the word 的 and the
character 的 stay two features. Whitespace is dropped before cutting so that
a prepared file (tokens separated by spaces) and the raw text it came from
give the same words. `features.json` beside ngrams.txt says whether a table
has words and holds the segmenter's settings; `load` reads both.

Pretrained vectors: with a textrnn.training.wide.mean_vectors block, each row also
holds the mean direction of the text's character vectors, times the weight
features.json records, in the columns after the n-grams'.
"""

import collections
import math
import os

import numpy as np
import tensorflow as tf

from textrnn.features import encoding
from textrnn.training import artifacts
from textrnn.util.errors import UserError, where
from textrnn.training.wide import mean_vectors

NGRAMS_FILE = "ngrams.txt"
FEATURES_FILE = "features.json"
ORDERS = (1, 2, 3)
WORD_MARK = " "  # no character n-gram holds whitespace


def grams(texts, orders=ORDERS, segmenter=None):
    """Ragged [batch, None] features of each text: its character n-grams of every
    order, then (with a segmenter) its words, WORD_MARK first. The one
    definition of a feature: the featurizer and `fit` both call it."""
    chars = encoding.characters(texts)
    found = tf.strings.ngrams(chars, list(orders), separator="")
    if segmenter is None:
        return found
    words = segmenter(tf.strings.reduce_join(chars, axis=1))
    return tf.concat([found, tf.strings.join([WORD_MARK, words])], axis=1)


def _read_table(path):
    """(ngrams, idf) of an ngrams.txt."""
    table, idf = [], []
    with open(path, encoding="utf-8", newline="\n") as stream:
        for number, line in enumerate(stream, start=1):
            gram, tab, value = line.rstrip("\n").partition("\t")
            try:
                idf.append(float(value))
            except ValueError:
                raise UserError(f"{where(path, number)}: expected 'ngram<TAB>idf'") from None
            if not tab or not gram:
                raise UserError(f"{where(path, number)}: expected 'ngram<TAB>idf'")
            table.append(gram)
    if not table:
        raise UserError(f"{path}: no n-grams")
    return table, np.array(idf, np.float32)


class NgramFeaturizer(tf.Module):
    """Batch of texts -> float32 SparseTensor [batch, num_features] of TF-IDF rows, then
    (with `vectors`, a mean_vectors.MeanVectors) `vector_weight` times its block."""

    def __init__(self, ngrams_file, orders=ORDERS, segmenter=None, vectors=None,
                 vector_weight=1.0, name="ngram_featurizer"):
        super().__init__(name=name)
        table, idf = _read_table(ngrams_file)
        self.orders = tuple(int(n) for n in orders)
        self.segmenter = segmenter
        self.vectors, self.vector_weight = vectors, float(vector_weight)
        self.num_ngrams = len(table)
        self.num_features = len(table) + (vectors.dim if vectors is not None else 0)
        self.idf = tf.constant(idf)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                ngrams_file, tf.string, 0, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
                delimiter="\t"),
            default_value=-1)

    def grams(self, texts):
        """Ragged [batch, None] features of each text (see `grams`)."""
        return grams(texts, self.orders, self.segmenter)

    def unknown_share(self, texts):
        """float32 [batch]: the share of each text's characters that no n-gram of the
        table holds (0 for an empty text)."""
        ids = tf.ragged.map_flat_values(self.table.lookup, encoding.characters(texts))
        unknown = tf.reduce_sum(tf.cast(ids < 0, tf.float32), axis=1)
        return tf.math.divide_no_nan(unknown, tf.cast(ids.row_lengths(), tf.float32))

    def encode(self, texts, segmented=None):
        """(TF-IDF rows, unknown share) of `texts`, as TokenEncoder.encode."""
        # Its jieba segmenter (for --wide_words) is its own, loaded from its folder:
        # no other member's cut text is its input.
        del segmented
        return self(texts), self.unknown_share(texts)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        found = self.grams(texts)
        return self.rows(found.flat_values, found.value_rowids(), texts)

    def rows(self, grams, rows, texts):
        """The TF-IDF rows of `texts` from their features: `grams` (flat, in any order) and
        the row of each."""
        ids = self.table.lookup(grams)
        known = ids >= 0
        rows = tf.boolean_mask(rows, known)
        ids = tf.boolean_mask(ids, known)
        width = tf.constant(self.num_ngrams, tf.int64)
        keys, _, counts = tf.unique_with_counts(rows * width + ids, out_idx=tf.int64)
        rows, cols = keys // width, keys % width
        values = (1.0 + tf.math.log(tf.cast(counts, tf.float32))) * tf.gather(self.idf, cols)
        batch = tf.shape(texts, out_type=tf.int64)[0]
        norms = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(values), rows, batch))
        values = values / tf.gather(norms, rows)
        features = tf.sparse.reorder(tf.sparse.SparseTensor(
            tf.stack([rows, cols], axis=1), values, tf.stack([batch, width])))
        if self.vectors is None:
            return features
        return mean_vectors.append(features, self.vectors(texts), self.vector_weight)


def _document_grams(texts, orders, segmenter):
    """Distinct features of each text, flattened: what document frequency counts."""
    found = grams(texts, orders, segmenter)
    rows = found.value_rowids()
    # Distinct (row, gram) pairs: unique over "row<TAB>gram" (grams hold no tab).
    keyed = tf.strings.join([tf.strings.as_string(rows), found.flat_values], separator="\t")
    return tf.strings.split(tf.unique(keyed).y, "\t", maxsplit=1).to_tensor()[:, 1]


_COUNTERS = {}


def _counter(orders, segmenter):
    """The traced _document_grams of these orders and segmenter, one per pair: fitting
    several tables (the audit's folds) traces it once, not once a table."""
    key = (orders, id(segmenter))
    if key not in _COUNTERS:
        _COUNTERS[key] = (segmenter, tf.function(
            lambda t: _document_grams(t, orders, segmenter)))
    return _COUNTERS[key][1]


def fit(texts_dataset, max_ngrams, min_df=1, orders=ORDERS, prune_at=None, total=None,
        segmenter=None):
    """Choose the n-grams (by document frequency) and their IDF from train texts.

    `texts_dataset` yields batches of texts. Keeps the `max_ngrams` most
    frequent n-grams seen in at least `min_df` texts. Memory stays bounded on
    any corpus: when more than `prune_at` distinct n-grams are held, the
    rarest are dropped (gensim's prune_vocab rule), which only affects
    n-grams too rare to make the cut.
    `total` (the number of texts, when known) gives progress lines a time left.
    With `segmenter`, words are features too (see `grams`).
    Returns (ngrams, idf, number of texts).
    """
    from textrnn.util.console import Progress
    progress = Progress("wide path: counting n-grams", total, "texts", seconds=10.0)
    prune_at = prune_at or max(10 * max_ngrams, 1_000_000)
    counts, texts, min_reduce = collections.Counter(), 0, 1
    document_grams = _counter(tuple(orders), segmenter)
    for batch in texts_dataset:
        texts += int(tf.shape(batch)[0])
        counts.update(document_grams(batch).numpy())
        progress.add(int(tf.shape(batch)[0]))
        if len(counts) > prune_at:
            counts = collections.Counter({g: c for g, c in counts.items() if c > min_reduce})
            min_reduce += 1
    kept = sorted(((g, c) for g, c in counts.items() if c >= min_df),
                  key=lambda item: (-item[1], item[0]))[:max_ngrams]
    if not kept:
        raise UserError(f"no character n-gram occurs in at least {min_df} training texts")
    idf = [math.log((1 + texts) / (1 + c)) + 1.0 for _, c in kept]
    return [g.decode("utf-8") for g, _ in kept], idf, texts


def write_table(path, table, idf):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(f"{g}\t{v!r}\n" for g, v in zip(table, idf))


def word_segmenter(directory):
    """(segmenter, settings): jieba's cut in the graph (its default dictionary, HMM
    off), the dictionary written into `directory`; `settings` go to `save`."""
    from textrnn.text import segmenter
    from textrnn.text import tokenize
    edges, nodes, fallback, longest = segmenter.write_dictionary(
        tokenize.jieba_tokenizer(), directory)
    settings = dict(fallback_weight=fallback, max_word_length=longest)
    return segmenter.JiebaSegmenter(edges, nodes, **settings), settings


def save(directory, table, idf, words=None, orders=ORDERS, vector_weight=None):
    """Write a featurizer's table and FEATURES_FILE into `directory` (where
    `word_segmenter` wrote its dictionary, given its `words` settings, and
    mean_vectors.save the vectors of a block at `vector_weight`)."""
    write_table(os.path.join(directory, NGRAMS_FILE), table, idf)
    artifacts.write_json(os.path.join(directory, FEATURES_FILE),
                         dict(orders=list(orders), words=words, vector_weight=vector_weight))


def set_vector_weight(directory, weight):
    """Record the mean-vectors block's weight in `directory`'s FEATURES_FILE; 0 removes
    the block and then its files (a stop between the two leaves a table that loads)."""
    path = os.path.join(directory, FEATURES_FILE)
    spec = artifacts.read_json(path)
    spec["vector_weight"] = float(weight) if weight else None
    artifacts.write_json(path, spec)
    if not weight:
        mean_vectors.remove(directory)


def load(directory):
    """The NgramFeaturizer `save` wrote into `directory`."""
    from textrnn.text import segmenter
    path, = _files(directory, FEATURES_FILE)
    spec = artifacts.read_json(path)
    try:
        orders, words = [int(n) for n in spec["orders"]], spec["words"]
        cut = None if words is None else segmenter.JiebaSegmenter(
            *_files(directory, segmenter.EDGES_FILE, segmenter.NODES_FILE),
            float(words["fallback_weight"]), int(words["max_word_length"]))
        weight = spec.get("vector_weight")
        weight = None if weight is None else float(weight)
    except (KeyError, TypeError, ValueError) as error:
        expected = ("{'orders': [1, 2, 3], 'words': null or "
                    "{'fallback_weight': ..., 'max_word_length': ...}, "
                    "'vector_weight': null or a number}")
        raise UserError(f"{path}: expected {expected} ({error!r})") from None
    vectors = None
    if weight is not None:
        _files(directory, mean_vectors.VECTOR_CHARS_FILE, mean_vectors.VECTOR_MATRIX_FILE)
        vectors = mean_vectors.MeanVectors(directory)
    return NgramFeaturizer(os.path.join(directory, NGRAMS_FILE), orders, cut, vectors,
                           weight if weight is not None else 1.0)


def _files(directory, *names):
    """Paths of `names` in `directory`, each of which must exist."""
    paths = [os.path.join(directory, name) for name in names]
    for path in paths:
        if not os.path.isfile(path):
            raise UserError(f"{path}: missing")
    return paths
