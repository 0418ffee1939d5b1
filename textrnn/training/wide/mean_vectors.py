"""The mean of a text's pretrained character vectors, in the graph: wide features.

    text -> characters (whitespace dropped) -> their rows of the vectors file
         -> sum -> L2-normalised [batch, dim]   (the mean's direction)

With --pretrained_embeddings the wide path's TF-IDF row (norm 1) is extended
by this block times a weight (ngrams.NgramFeaturizer): n-grams know only the
strings train holds, the vectors what a character means, also one train
never saw. The weight is chosen on val (`choose_vector_weight`, at the C that
linear.train_wide chose without the block) from VECTOR_WEIGHTS, or 0, which leaves
the block out of the model: on some corpora the n-grams say all there is.

Files (beside ngrams.txt): VECTOR_CHARS_FILE, one character a line (line
number == row), and VECTOR_MATRIX_FILE, the float32 [rows, dim] matrix.
"""

import os

import numpy as np
import tensorflow as tf

from textrnn.features import encoding
from textrnn.util.console import say

VECTOR_CHARS_FILE = "vector_chars.txt"
VECTOR_MATRIX_FILE = "vector_chars.npy"
VECTOR_WEIGHTS = (0.3, 0.6, 1.0)  # of the block against the TF-IDF row; 0 is always a candidate


def keep(path, train_characters, max_added, copy=None):
    """The vectors of a file's single characters: those of `train_characters` and up
    to `max_added` others in file order (a textrnn.text.vectors.Vectors). They are
    taken from `copy` (a vectors.save_copy directory of the file's characters) when
    it holds one of this file, else streamed from the file."""
    from textrnn.text import vectors
    request = vectors.Request([c for c in train_characters if vectors.is_character(c)],
                              max_added, vectors.is_character)
    kept = vectors.read_copy(copy, path) if copy else None
    return vectors.select(kept, request) if kept else vectors.load_many(path, [request])[0]


def save(directory, kept):
    """Write the kept characters and their matrix into `directory`."""
    from textrnn.text import vectors
    vectors.save(kept, os.path.join(directory, VECTOR_CHARS_FILE),
                 os.path.join(directory, VECTOR_MATRIX_FILE))


def saved_in(directory):
    return os.path.isfile(os.path.join(directory, VECTOR_MATRIX_FILE))


def remove(directory):
    """Delete the files `save` wrote (when the chosen weight is 0)."""
    for name in (VECTOR_CHARS_FILE, VECTOR_MATRIX_FILE):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            os.remove(path)


class MeanVectors(tf.Module):
    """Batch of texts -> float32 [batch, dim]: the direction of the mean vector of each
    text's characters that have one (zeros when none has)."""

    def __init__(self, directory, name="mean_vectors"):
        super().__init__(name=name)
        matrix = np.load(os.path.join(directory, VECTOR_MATRIX_FILE))
        self.dim = int(matrix.shape[1])
        # a variable, not a constant: the SavedModel keeps it with the weights rather
        # than inside the graph
        self.matrix = tf.Variable(matrix.astype(np.float32), trainable=False, name="matrix")
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                os.path.join(directory, VECTOR_CHARS_FILE), tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER),
            default_value=-1)

    def __call__(self, texts):
        ids = tf.ragged.map_flat_values(self.table.lookup, encoding.characters(texts))
        ids = tf.ragged.boolean_mask(ids, ids >= 0)
        sums = tf.math.unsorted_segment_sum(tf.gather(self.matrix, ids.flat_values),
                                            ids.value_rowids(), tf.shape(texts)[0])
        # the mean's direction is the sum's; l2_normalize leaves a zero row zero
        return tf.math.l2_normalize(sums, axis=1)


def choose_vector_weight(model, score, solve, name="accuracy"):
    """(model, val score, weight) of the mean-vectors block: `model` (val `score`)
    without it, unless `solve(weight)` -> (model, val score) beats it at one of
    VECTOR_WEIGHTS (the lowest of ties). A tie keeps the block out: it adds
    a row of weights a corpus has shown no use for."""
    weight = 0.0
    for candidate in VECTOR_WEIGHTS:
        found, found_score = solve(candidate)
        say(f"wide path: with the character vectors at weight {candidate:g}: val {name} "
            f"{found_score:.4f}")
        if found_score > score:
            model, score, weight = found, found_score, candidate
    say(f"wide path: the character vectors' weight is {weight:g} (chosen on val"
        + (": the n-grams alone score as well)" if weight == 0 else ")"))
    return model, score, weight


def weighted(features, start, weight):
    """TF-IDF rows with the block in columns start.. (SparseTensor [batch, start + dim])
    at `weight`: weight 0 drops the block (its columns too)."""
    in_block = features.indices[:, 1] >= start
    if weight == 0:
        plain = tf.sparse.retain(features, tf.logical_not(in_block))
        return tf.sparse.SparseTensor(plain.indices, plain.values,
                                      tf.stack([features.dense_shape[0], start]))
    scale = tf.where(in_block, tf.cast(weight, features.values.dtype), 1.0)
    return tf.sparse.SparseTensor(features.indices, features.values * scale,
                                  features.dense_shape)


def append(features, block, weight):
    """TF-IDF rows [batch, F] and weight * block [batch, D] side by side: [batch, F + D]."""
    dense = tf.sparse.from_dense(weight * block)
    return tf.sparse.reorder(tf.sparse.concat(1, [features, dense]))


def weighted_batches(batches, start, weight):
    """[(features, labels)] with the block of each batch's features at `weight`."""
    return [(weighted(features, start, weight), labels) for features, labels in batches]
