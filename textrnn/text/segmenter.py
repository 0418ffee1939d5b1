"""jieba's word segmentation (accurate mode, HMM off) in TensorFlow ops.

A word model's SavedModel must cut raw text exactly as `textrnn-prepare` cut
its training data, with nothing but TensorFlow on the serving side. This
module reproduces `jieba.lcut(text, HMM=False)` (whitespace tokens dropped,
as textrnn's tokenizer does) in the graph:

1. Characters are split into blocks as jieba's regular expressions do: runs
   of "han" characters (CJK U+4E00-U+9FD5, ASCII letters and digits and
   `+#&._%-`) are segmented; every other character is a token of its own,
   and whitespace is dropped.
2. Inside a run, the candidate words starting at each character are the
   dictionary words that start there (jieba's DAG). jieba's prefix
   dictionary is written at export as a trie, two SavedModel assets: its
   edges (parent node, next character) -> child node, and each node's
   weight log(freq) - log(total), or PREFIX_ONLY for keys that are only
   prefixes of longer words. Candidates grow one character at a time down
   the trie, integer lookups only, and stop where no word continues, as
   `jieba.Tokenizer.get_DAG` does.
3. The maximum-probability route is a dynamic program from the end of each
   run back to its start (`jieba.Tokenizer.calc`), vectorised over the batch,
   in float64 with the weights computed by Python's math.log at export: the
   additions and comparisons are then bit-for-bit jieba's, ties going to the
   longer word as Python's tuple max does.
4. Single ASCII letters or digits that the route leaves alone are joined
   into one token, as jieba's `__cut_DAG_NO_HMM` buffers them.

Invalid UTF-8 is decoded with U+FFFD in place of each bad byte sequence.
"""

import math
import os
import re

import tensorflow as tf

from textrnn.text.tokenize import WHITESPACE

# jieba.re_han_default's character class, as code point ranges.
HAN_RANGES = ((0x4E00, 0x9FD5), (ord("a"), ord("z")), (ord("A"), ord("Z")),
              (ord("0"), ord("9")))
HAN_SYMBOLS = "+#&._%-"
_HAN = re.compile("^[\u4E00-\u9FD5a-zA-Z0-9+#&._%\\-]+$")
PREFIX_ONLY = 1.0  # a dictionary key that is no word itself (weights are < 0)
EDGES_FILE = "jieba_trie_edges.tsv"
NODES_FILE = "jieba_trie_nodes.tsv"
_CODE_BITS = 21  # Unicode code points are below 2**21


def write_dictionary(tokenizer, directory):
    """Write jieba Tokenizer `tokenizer`'s prefix dictionary as a trie into `directory`.

    EDGES_FILE: `parent * 2**21 + code<TAB>child` per edge (the root is node
    0); NODES_FILE: line n is node n's weight, log(freq) - log(total) as jieba
    computes it, or PREFIX_ONLY. Keys that cannot occur inside a han run
    (other characters) are left out: they never match. Returns (edges path,
    nodes path, fallback weight, longest key in characters).
    """
    tokenizer.check_initialized()
    logtotal = math.log(tokenizer.total)
    keys = sorted((k for k in tokenizer.FREQ if _HAN.match(k)), key=len)  # parents first
    node = {key: number for number, key in enumerate(keys, start=1)}
    node[""] = 0
    freq = tokenizer.FREQ
    edges, nodes = os.path.join(directory, EDGES_FILE), os.path.join(directory, NODES_FILE)
    with open(edges, "w", encoding="ascii") as out:
        out.writelines(f"{(node[key[:-1]] << _CODE_BITS) + ord(key[-1])}\t{number}\n"
                       for number, key in enumerate(keys, start=1))
    with open(nodes, "w", encoding="ascii") as out:
        # jieba: log(FREQ.get(word) or 1) - logtotal, evaluated the same way
        out.write(f"{PREFIX_ONLY!r}\n")
        out.writelines(f"{math.log(freq[key]) - logtotal if freq[key] else PREFIX_ONLY!r}\n"
                       for key in keys)
    longest = max(map(len, keys), default=1)
    return edges, nodes, math.log(1) - logtotal, longest


def _in_ranges(codes, ranges, symbols=""):
    hit = tf.zeros_like(codes, tf.bool)
    for low, high in ranges:
        hit |= (codes >= low) & (codes <= high)
    for symbol in symbols:
        hit |= tf.equal(codes, ord(symbol))
    return hit


class JiebaSegmenter(tf.Module):
    """Batch of raw texts -> ragged [batch, None] jieba tokens (HMM off)."""

    def __init__(self, edges_file, nodes_file, fallback_weight, max_word_length,
                 name="segmenter"):
        super().__init__(name=name)
        self.fallback_weight = float(fallback_weight)
        self.max_word_length = int(max_word_length)
        self.edges = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(edges_file, tf.int64, 0, tf.int64, 1, delimiter="\t"),
            default_value=-1)
        self.nodes = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(nodes_file, tf.int64,
                                          tf.lookup.TextFileIndex.LINE_NUMBER, tf.float64, 0,
                                          delimiter="\t"),
            default_value=PREFIX_ONLY)
        self.whitespace = tf.constant(WHITESPACE, tf.int32)

    @classmethod
    def from_jieba(cls, tokenizer, directory):
        """A segmenter of jieba Tokenizer `tokenizer`, its dictionary written into `directory`."""
        return cls(*write_dictionary(tokenizer, directory))

    # One trace, called from every graph that cuts text: the serving and tokenize
    # signatures, the wide path's features, instead of the dynamic program's many ops
    # traced again into each.
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        return self.tokens(texts)

    def tokens(self, texts):
        """Ragged [batch, None] tokens of each text of the string batch `texts`.

        Han runs of the whole batch are segmented together, one run per row,
        so the dynamic program takes as many steps as the longest run, not
        the longest text.
        """
        texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
        chars = tf.strings.unicode_split(texts, "UTF-8")
        flat = chars.flat_values
        codes = tf.strings.unicode_decode(texts, "UTF-8").flat_values  # one code per char
        han = _in_ranges(codes, HAN_RANGES, HAN_SYMBOLS)
        rows = tf.cast(chars.value_rowids(), tf.int32)
        runs = _runs(flat, han, rows)
        weights = self._candidates(_runs(codes, han, rows).to_tensor(-1), runs.row_lengths())
        chosen = _best_route(weights)
        # token positions in the batch's flat characters, and token strings
        run_tokens, run_at = _cut_runs(runs, chosen, codes, han)
        alone = tf.logical_not(han) & tf.logical_not(tf.reduce_any(
            tf.equal(codes[:, None], self.whitespace[None, :]), axis=1))
        at = tf.concat([run_at, tf.cast(tf.where(alone)[:, 0], tf.int32)], axis=0)
        words = tf.concat([run_tokens, tf.boolean_mask(flat, alone)], axis=0)
        order = tf.argsort(at)
        return tf.RaggedTensor.from_value_rowids(
            tf.gather(words, order), tf.cast(tf.gather(rows, tf.gather(at, order)), tf.int64),
            nrows=tf.shape(texts, out_type=tf.int64)[0])

    def _candidates(self, codes, run_lengths):
        """float64 [runs, time, max_word_length]: the weight of the word of length
        l + 1 starting at each character, -inf where there is none (jieba's DAG).

        Past a run's end the only "word" has length 1 and weight 0, so the
        route's score stays exactly 0 there, as jieba's route[N] = (0, 0).
        """
        positions = tf.cast(tf.where(codes >= 0), tf.int32)  # (run, column)
        ends = tf.cast(tf.gather(run_lengths, positions[:, 0]), tf.int32)
        states = tf.zeros(tf.shape(positions)[:1], tf.int64)  # the trie's root
        found = tf.zeros([0, 3], tf.int32), tf.zeros([0], tf.float64)

        def grow(length, positions, ends, states, found):
            """Follow each key's next character down the trie; keep those that exist
            and can still grow inside their run."""
            code = tf.cast(tf.gather_nd(codes, positions + [0, length - 1]), tf.int64)
            states = self.edges.lookup(tf.bitwise.left_shift(states, _CODE_BITS) + code)
            weights = self.nodes.lookup(states)
            is_word = (states >= 0) & (weights < 0)
            at = tf.concat([tf.boolean_mask(positions, is_word),
                            tf.fill([tf.reduce_sum(tf.cast(is_word, tf.int32)), 1], length - 1)],
                           axis=1)
            found = (tf.concat([found[0], at], 0),
                     tf.concat([found[1], tf.boolean_mask(weights, is_word)], 0))
            keep = (states >= 0) & (positions[:, 1] + length < ends)
            return (length + 1, tf.boolean_mask(positions, keep), tf.boolean_mask(ends, keep),
                    tf.boolean_mask(states, keep), found)

        # keys grow one character at a time until none is left: ~4 rounds, not max_word_length
        _, _, _, _, (found_at, found_weight) = tf.while_loop(
            lambda length, positions, *_: tf.size(positions) > 0, grow,
            (1, positions, ends, states, found),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, 2]),
                              tf.TensorShape([None]), tf.TensorShape([None]),
                              (tf.TensorShape([None, 3]), tf.TensorShape([None]))),
            maximum_iterations=self.max_word_length)
        # only as many lengths as this batch's longest word: the route's work is that wide
        longest = tf.reduce_max(tf.concat([found_at[:, 2], [0]], 0)) + 1
        shape = tf.concat([tf.shape(codes), [longest]], axis=0)
        weights = tf.tensor_scatter_nd_update(
            tf.fill(shape, tf.constant(-math.inf, tf.float64)), found_at, found_weight)
        # no word starts here: the character alone, at log(1) - log(total)
        none = tf.reduce_all(tf.math.is_inf(weights), axis=2)
        alone = tf.where(codes >= 0, tf.constant(self.fallback_weight, tf.float64),
                         tf.constant(0.0, tf.float64))
        first = tf.where(none, alone, weights[:, :, 0])
        return tf.concat([first[:, :, None], weights[:, :, 1:]], axis=2)


def _runs(flat, han, rows):
    """Ragged [runs, None]: the han runs of a batch's flat characters, in order."""
    previous = tf.concat([[False], han[:-1] & tf.equal(rows[1:], rows[:-1])], axis=0)
    starts = han & tf.logical_not(previous)
    run_ids = tf.cumsum(tf.cast(starts, tf.int32)) - 1
    return tf.RaggedTensor.from_value_rowids(
        tf.boolean_mask(flat, han), tf.boolean_mask(run_ids, han),
        nrows=tf.reduce_sum(tf.cast(starts, tf.int32)))


def _best_route(weights):
    """int32 [runs, time]: the length of the word jieba's route takes at each position."""
    runs, width, longest = tf.shape(weights)[0], tf.shape(weights)[1], tf.shape(weights)[2]
    by_position = tf.transpose(weights, [1, 0, 2])
    scores = tf.TensorArray(tf.float64, size=width, element_shape=[None])

    def step(k, window, scores):
        # window[:, l] is the route's score from position k + l + 1
        best = tf.reduce_max(by_position[k] + window, axis=1)
        window = tf.concat([best[:, None], window[:, :-1]], axis=1)
        return k - 1, window, scores.write(k, best)

    window = tf.zeros([runs, longest], tf.float64)
    _, _, scores = tf.while_loop(lambda k, *_: k >= 0, step, (width - 1, window, scores))
    # the same sums again, all at once, to find which word won at each position
    route = tf.transpose(_stack(scores, runs), [1, 0])
    route = tf.concat([route, tf.zeros([runs, longest], tf.float64)], axis=1)
    lengths = tf.range(1, longest + 1)
    following = tf.gather(route, tf.range(width)[:, None] + lengths[None, :], axis=1)
    score = weights + following
    best = tf.reduce_max(score, axis=2, keepdims=True)
    # ties: the longer word, as Python's max over (score, end) tuples
    return tf.reduce_max(tf.where(tf.equal(score, best), lengths, 0), axis=2)


def _stack(array, width):
    """TensorArray of [width] vectors -> [size, width], also when it is empty."""
    return tf.cond(array.size() > 0, lambda: tf.reshape(array.stack(), [-1, width]),
                   lambda: tf.zeros([0, width], array.dtype))


def _walk(chosen, run_lengths):
    """Ragged [runs, None] positions where the route's words start in each run."""
    runs = tf.shape(run_lengths)[0]
    last = tf.maximum(tf.shape(chosen)[1] - 1, 0)
    starts = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])

    def step(i, at, starts):
        length = tf.gather(chosen, tf.minimum(at, last), batch_dims=1)
        return i + 1, at + length, starts.write(i, at)

    at = tf.zeros([runs], tf.int32)
    _, _, starts = tf.while_loop(lambda i, at, _: tf.reduce_any(at < run_lengths), step,
                                 (0, at, starts))
    starts = tf.transpose(_stack(starts, runs), [1, 0])
    return tf.ragged.boolean_mask(starts, starts < run_lengths[:, None])


def _cut_runs(runs, chosen, codes, han):
    """(words, flat position of each word's first character) of the routes through
    `runs`, lone ASCII letters and digits joined as jieba does."""
    run_lengths = tf.cast(runs.row_lengths(), tf.int32)
    starts = _walk(chosen, run_lengths)
    rows = tf.cast(starts.value_rowids(), tf.int32)
    at = tf.stack([rows, starts.flat_values], axis=1)
    length = tf.gather_nd(chosen, at)
    # each run character's position among the batch's flat characters
    flat_at = tf.cast(tf.where(han)[:, 0], tf.int32)
    first = tf.cast(runs.row_starts(), tf.int32)
    char_index = tf.gather(first, rows) + starts.flat_values  # among the run characters
    ascii_letter = (length == 1) & _in_ranges(tf.gather(codes, tf.gather(flat_at, char_index)),
                                              HAN_RANGES[1:])
    joined = starts.with_flat_values(ascii_letter)
    previous = tf.concat([tf.zeros_like(joined[:, :1]), joined[:, :-1]], axis=1).flat_values
    token_id = tf.cumsum(tf.cast(tf.logical_not(ascii_letter & previous), tf.int32)) - 1
    words = _substrings(runs.flat_values, char_index, length)
    count = tf.reduce_max(tf.concat([token_id, [-1]], 0)) + 1
    words = tf.strings.unsorted_segment_join(words, token_id, count)
    word_at = tf.math.unsorted_segment_min(tf.gather(flat_at, char_index), token_id, count)
    return words, word_at


def _substrings(chars, begin, length):
    """chars[begin:begin + length] joined, for each (begin, length)."""
    width = tf.reduce_max(tf.concat([length, [0]], 0))
    index = begin[:, None] + tf.range(width)[None, :]
    pieces = tf.gather(chars, tf.minimum(index, tf.size(chars) - 1))
    pieces = tf.where(tf.range(width)[None, :] < length[:, None], pieces, "")
    return tf.strings.reduce_join(pieces, axis=1)
