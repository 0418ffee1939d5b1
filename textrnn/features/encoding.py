"""In-graph encoding: token strings -> padded id matrices, labels -> class ids
(or, for several labels a text, 0/1 rows).

These tf.Modules are the only place text becomes numbers. The training and
evaluation pipelines call them inside tf.data, and the exported SavedModel
calls the very same modules in its serving signature, so the lookup tables
travel with the model as assets and cannot drift from what training saw.
"""

import tensorflow as tf

from textrnn.text import tokenize
from textrnn.text.vocab import UNK

from textrnn.features import PADDINGS
CUTS = ("whitespace", "chars", "bigrams")  # how an encoder cuts its input string
# tokenize.WHITESPACE as a character class of TensorFlow's regular expressions (RE2)
_WHITESPACE = "[" + "".join(f"\\x{{{c:x}}}" for c in tokenize.WHITESPACE) + "]"


def code_points(texts):
    """(ragged [batch, None] code points of each text, the ragged bool mask of those
    that are not whitespace): `characters` keeps the second's, and explanations
    (training/attributions.py) place them in the text by the first's positions."""
    chars = tf.strings.unicode_split(texts, "UTF-8")
    keep = tf.logical_not(tf.strings.regex_full_match(chars.flat_values, _WHITESPACE))
    return chars, chars.with_flat_values(keep)


def characters(texts):
    """Ragged [batch, None] characters of each text, whitespace dropped.

    The one in-graph definition of a text's characters: char and bigram
    models read them, and so do the wide path's n-grams.
    """
    return tf.ragged.boolean_mask(*code_points(texts))


class TokenEncoder(tf.Module):
    """Batch of texts (tokens separated by spaces) -> int32 ids [batch, time].

    split="chars" cuts each text into characters in the graph instead (for
    char-tokenized models, so raw text can be served directly; a prepared
    char file with spaces gives the same result); split="bigrams" then pairs
    adjacent characters (for bigram models; tokenize.bigrams in Python).

    padding="mask": ids are right-padded with `<PAD>` (id 0) to the longest
    text of the batch, capped at `num_timesteps`. Right padding is what lets
    Keras hand the masked sequence to cuDNN. An empty text becomes a single
    `<UNK>` so every row has at least one valid step.

    padding="original": the TF1 pipeline's behaviour, kept for imported
    checkpoints: padded with the `<UNK>` id to exactly `num_timesteps`.

    `segmenter` (a textrnn.text.segmenter.JiebaSegmenter, split="whitespace" only)
    cuts raw text into words in the graph instead of splitting on spaces:
    what a word model's SavedModel serves with.
    """

    def __init__(self, tokens_file, unk_id, num_timesteps, split="whitespace",
                 padding="mask", segmenter=None, name="token_encoder"):
        super().__init__(name=name)
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}")
        if split not in CUTS:
            raise ValueError(f"split must be one of {CUTS}")
        if segmenter is not None and split != "whitespace":
            raise ValueError("a segmenter replaces the whitespace split only")
        self.num_timesteps = int(num_timesteps)
        self.split = split
        self.segmenter = segmenter
        self.padding = padding
        self.unk_id = int(unk_id)
        self.pad_id = 0 if padding == "mask" else self.unk_id
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                tokens_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER),
            default_value=self.unk_id)

    def tokens(self, texts):
        """Ragged [batch, None] tokens of each text."""
        if self.segmenter is not None:
            return self.segmenter(texts)
        if self.split == "whitespace":
            return tf.strings.split(texts)
        chars = characters(texts)
        if self.split == "bigrams":
            return tf.strings.join([chars[:, :-1], chars[:, 1:]])
        return chars

    def ids(self, texts):
        """Ragged int32 ids [batch, None], truncated to num_timesteps.

        In mask mode an empty text becomes a single <UNK>.
        """
        return self._ids(self.tokens(texts))

    def _lookup(self, tokens):
        return tf.ragged.map_flat_values(self.table.lookup, tokens)

    def _ids(self, tokens):
        return self._model_ids(self._lookup(tokens[:, :self.num_timesteps]))

    def _model_ids(self, ids):
        """Looked-up ids -> what the model reads: int32, the first num_timesteps."""
        ids = tf.cast(ids[:, :self.num_timesteps], tf.int32)
        if self.padding == "mask":
            empty = tf.cast(tf.equal(ids.row_lengths(), 0), tf.int64)
            unk = tf.RaggedTensor.from_row_lengths(
                tf.fill([tf.reduce_sum(empty)], self.unk_id), empty)
            ids = tf.concat([ids, unk], axis=1)
        return ids

    def unknown_share(self, texts):
        """float32 [batch]: the share of each text's tokens outside the vocabulary
        (all of them, not only the first num_timesteps; 0 for an empty text)."""
        return self._unknown_share(self.tokens(texts))

    def _unknown_share(self, tokens):
        return self._share(self._lookup(tokens))

    def _share(self, ids):
        unknown = tf.reduce_sum(tf.cast(tf.equal(ids, self.unk_id), tf.float32), axis=1)
        return tf.math.divide_no_nan(unknown, tf.cast(ids.row_lengths(), tf.float32))

    def encode(self, texts, segmented=None):
        """(padded ids, unknown share) of `texts`, cutting them once. `segmented`, a
        dict shared by the members of one export, lets members with the same
        segmenter share its work too."""
        if self.segmenter is not None and segmented is not None:
            key = id(self.segmenter)
            if key not in segmented:
                segmented[key] = self.segmenter(texts)
            tokens = segmented[key]
        else:
            tokens = self.tokens(texts)
        ids = self._lookup(tokens)  # every token once: the share counts past num_timesteps
        return self.pad(self._model_ids(ids)), self._share(ids)

    def padded_length(self):
        """The padded width: fixed in original mode, the batch's longest otherwise."""
        return self.num_timesteps if self.padding == "original" else None

    def pad(self, ids):
        """Ragged ids -> dense [batch, time], right-padded with pad_id."""
        return ids.to_tensor(self.pad_id, shape=[None, self.padded_length()])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        return self.pad(self.ids(texts))


class LabelEncoder(tf.Module):
    """Labels <-> class ids through categories.txt (line number == id).

    `ids` gives int64 [batch] class ids; `padded_shape` and `padding` are what
    a padded batch of them needs.
    """

    multi_label = False
    padded_shape = []

    def __init__(self, categories_file, name="label_encoder"):
        super().__init__(name=name)
        self.num_classes = _count_lines(categories_file)
        self.to_id = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                categories_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER),
            default_value=-1)
        self.to_label = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                categories_file, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
                tf.string, tf.lookup.TextFileIndex.WHOLE_LINE),
            default_value="")

    def ids(self, labels):
        ids = self.to_id.lookup(labels)
        with tf.control_dependencies([tf.debugging.assert_non_negative(
                ids, message="a label that categories.txt does not have")]):
            return tf.identity(ids)

    def labels(self, ids):
        return self.to_label.lookup(tf.cast(ids, tf.int64))

    @property
    def padding(self):
        return tf.constant(0, tf.int64)


class MultiLabelEncoder(LabelEncoder):
    """Label fields of several labels (`a|b`) -> float32 [batch, num_classes] 0/1 rows."""

    multi_label = True

    def __init__(self, categories_file, separator, name="label_encoder"):
        super().__init__(categories_file, name=name)
        self.separator = separator
        self.padded_shape = [self.num_classes]

    def ids(self, fields):
        """The 0/1 target rows of a batch of label fields."""
        labels = tf.strings.strip(tf.strings.split(fields, self.separator))
        ids = super().ids(labels.flat_values)
        rows = tf.RaggedTensor.from_row_splits(tf.one_hot(ids, self.num_classes),
                                               labels.row_splits)
        return tf.minimum(tf.reduce_sum(rows, axis=1), 1.0)

    @property
    def padding(self):
        return tf.constant(0.0, tf.float32)


def _count_lines(path):
    with open(path, encoding="utf-8") as stream:
        return sum(1 for _ in stream)


__all__ = ["TokenEncoder", "LabelEncoder", "MultiLabelEncoder", "characters", "code_points", "PADDINGS", "CUTS", "UNK"]
