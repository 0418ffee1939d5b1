"""Character n-gram TF-IDF features, in the graph: the wide path's input.

    text -> characters (whitespace dropped) -> 1..3-grams -> ids (ngrams.txt)
         -> sublinear TF x IDF -> L2-normalised row of a SparseTensor

The featurizer is a tf.Module, so the exported SavedModel computes the same
features from raw text that training computed from the prepared files
(whose tokens joined without spaces are the raw text's characters, whatever
the tokenizer). The n-gram list and its IDF are fitted on train only, by
`fit`, which enumerates n-grams with the featurizer's own ops so there is
one definition of an n-gram, not a Python copy of it.

`ngrams.txt`: one `ngram<TAB>idf` a line, line number == feature id.
IDF is scikit-learn's smoothed form, ln((1 + n) / (1 + df)) + 1.
"""

import collections
import math

import numpy as np
import tensorflow as tf

from textrnn import encoding
from textrnn.errors import UserError, where

NGRAMS_FILE = "ngrams.txt"
ORDERS = (1, 2, 3)


def _read_table(path):
    """(ngrams, idf) of an ngrams.txt."""
    grams, idf = [], []
    with open(path, encoding="utf-8", newline="\n") as stream:
        for number, line in enumerate(stream, start=1):
            gram, tab, value = line.rstrip("\n").partition("\t")
            try:
                idf.append(float(value))
            except ValueError:
                raise UserError(f"{where(path, number)}: expected 'ngram<TAB>idf'") from None
            if not tab or not gram:
                raise UserError(f"{where(path, number)}: expected 'ngram<TAB>idf'")
            grams.append(gram)
    if not grams:
        raise UserError(f"{path}: no n-grams")
    return grams, np.array(idf, np.float32)


class NgramFeaturizer(tf.Module):
    """Batch of texts -> float32 SparseTensor [batch, num_features] of TF-IDF rows."""

    def __init__(self, ngrams_file, orders=ORDERS, name="ngram_featurizer"):
        super().__init__(name=name)
        grams, idf = _read_table(ngrams_file)
        self.orders = tuple(int(n) for n in orders)
        self.num_features = len(grams)
        self.idf = tf.constant(idf)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                ngrams_file, tf.string, 0, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
                delimiter="\t"),
            default_value=-1)

    def grams(self, texts):
        """Ragged [batch, None] character n-grams of every order."""
        return tf.strings.ngrams(encoding.characters(texts), list(self.orders), separator="")

    def unknown_share(self, texts):
        """float32 [batch]: the share of each text's characters that no n-gram of the
        table holds (0 for an empty text)."""
        ids = tf.ragged.map_flat_values(self.table.lookup, encoding.characters(texts))
        unknown = tf.reduce_sum(tf.cast(ids < 0, tf.float32), axis=1)
        return tf.math.divide_no_nan(unknown, tf.cast(ids.row_lengths(), tf.float32))

    def encode(self, texts, segmented=None):
        """(TF-IDF rows, unknown share) of `texts`, as TokenEncoder.encode."""
        del segmented  # characters need no segmenter
        return self(texts), self.unknown_share(texts)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        grams = self.grams(texts)
        ids = self.table.lookup(grams.flat_values)
        known = ids >= 0
        rows = tf.boolean_mask(grams.value_rowids(), known)
        ids = tf.boolean_mask(ids, known)
        width = tf.constant(self.num_features, tf.int64)
        keys, _, counts = tf.unique_with_counts(rows * width + ids, out_idx=tf.int64)
        rows, cols = keys // width, keys % width
        values = (1.0 + tf.math.log(tf.cast(counts, tf.float32))) * tf.gather(self.idf, cols)
        batch = tf.shape(texts, out_type=tf.int64)[0]
        norms = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(values), rows, batch))
        values = values / tf.gather(norms, rows)
        features = tf.sparse.SparseTensor(tf.stack([rows, cols], axis=1), values,
                                          tf.stack([batch, width]))
        return tf.sparse.reorder(features)


def _document_grams(texts, orders):
    """Distinct n-grams of each text, flattened: what document frequency counts."""
    grams = tf.strings.ngrams(encoding.characters(texts), list(orders), separator="")
    rows = grams.value_rowids()
    # Distinct (row, gram) pairs: unique over "row<TAB>gram" (grams hold no tab).
    keyed = tf.strings.join([tf.strings.as_string(rows), grams.flat_values], separator="\t")
    return tf.strings.split(tf.unique(keyed).y, "\t", maxsplit=1).to_tensor()[:, 1]


def fit(texts_dataset, max_ngrams, min_df=1, orders=ORDERS, prune_at=None, total=None):
    """Choose the n-grams (by document frequency) and their IDF from train texts.

    `texts_dataset` yields batches of texts. Keeps the `max_ngrams` most
    frequent n-grams seen in at least `min_df` texts. Memory stays bounded on
    any corpus: when more than `prune_at` distinct n-grams are held, the
    rarest are dropped (gensim's prune_vocab rule), which only affects
    n-grams too rare to make the cut.
    `total` (the number of texts, when known) gives progress lines a time left.
    Returns (ngrams, idf, number of texts).
    """
    from textrnn.console import Progress
    progress = Progress("wide path: counting n-grams", total, "texts", seconds=10.0)
    prune_at = prune_at or max(10 * max_ngrams, 1_000_000)
    counts, texts, min_reduce = collections.Counter(), 0, 1
    document_grams = tf.function(lambda t: _document_grams(t, orders))
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
    grams = [g.decode("utf-8") for g, _ in kept]
    idf = [math.log((1 + texts) / (1 + c)) + 1.0 for _, c in kept]
    return grams, idf, texts


def write_table(path, grams, idf):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(f"{g}\t{v!r}\n" for g, v in zip(grams, idf))
