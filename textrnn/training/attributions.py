"""The `explain` signature: which parts of a text made the served model answer as it did.

It is computed in the SavedModel, from raw text, for the very number the
service returns (the members' mixture, calibrated when training calibrated
it), so every way of serving explains alike.

Units: what the model's reader reads (training/export.py's `reader`): the
characters of a char or bigram model (whitespace dropped), the words of a word
model, each with its code-point offsets into the input text.

The baseline is the empty text: `baseline_probabilities` are what the model says
of a text it knows nothing of. A unit's attribution is its share of
probability - baseline probability, in probability units, for every class
(`class_attributions`) and for the explained one, the predicted class
(`attributions`). Each member's shares, at its served weight:

- the wide path, linear in its TF-IDF features, exactly: each feature's term of
  the logits (its value times its kernel row, times the temperature) is split
  evenly over the feature's occurrences in the text, and each occurrence's over
  the characters it covers (a 3-gram's over three, a word's over its characters);
  a unit gets the terms of its characters. What no n-gram places (the block of
  mean character vectors) is spread evenly over the characters. The logit terms
  become probabilities by integrated gradients of the softmax on the straight line
  from the empty text's logits (the bias) to the text's, with STEPS midpoints:
  they add up to p_wide(text) - p_wide("") within the midpoint rule's error.
- a recurrent model, by leave-one-out occlusion in one batched call: each unit is
  removed from the raw text, the model reads what is left, and the drop of its
  probabilities is the unit's share. A text of more than MAX_GROUPS units is cut
  into MAX_GROUPS runs of consecutive units (or runs of about UNITS_PER_RUN units,
  when the model reads more than MAX_GROUPS of those), each run removed at once
  and its drop split evenly over its units: an explanation costs at most
  max(MAX_GROUPS, num_timesteps / UNITS_PER_RUN) + 2 passes of the recurrent model.
  Units past the first num_timesteps, which the model does not read, are not
  removed (their share from it is 0). Drops need not add up to p(text) - p(""): units that act
  together (a word's characters) are each missed less when removed alone.

The mixture's shares are carried through the calibration (softmax(log p / T)) by
integrated gradients on the straight line from the baseline's mixture to the
text's, which is exact for shares that add up.
"""

import tensorflow as tf

from textrnn.features import encoding
from textrnn.training.calibration import TINY
from textrnn.training.outputs import calibrated

MAX_GROUPS = 24  # occlusions of the recurrent model a text (runs of units past that)
UNITS_PER_RUN = 6  # ... unless the model reads more than 24 runs of this many units
STEPS = 32       # midpoints of each path integral (a [batch, STEPS, classes] tensor)
LENGTH_CHUNKS = 4  # calls the occluded texts are run in, by length


def explainer(members, label_encoder, reader, served=None):
    """The `explain` function of a single-label SavedModel: raw texts -> the outputs of
    module docstring; `members` as export.build_archive's, `reader` the TokenEncoder
    whose tokens are the units, `served` the calibration.Served (None: none)."""

    def explain(texts):
        units = _Units(reader, texts, _read_units(members, reader))
        mixture, baseline, shares = 0.0, 0.0, 0.0
        for weight, model, encoder in members:
            if hasattr(model, "kernel"):  # the wide path's linear model
                p, p0, d = _wide_shares(model, encoder, texts, units)
            else:
                p, p0, d = _occlusion_shares(model, encoder, texts, units)
            mixture += weight * p
            baseline += weight * p0
            shares += weight * d
        served_p, served_p0 = mixture, baseline
        if served is not None:
            served_p, served_p0 = (calibrated(m, served.temperature) for m in (mixture, baseline))
            shares = _calibrated_shares(baseline, mixture, shares, served.temperature)
        class_id = tf.argmax(served_p, axis=-1, output_type=tf.int64)
        pick = lambda p: tf.gather(p, class_id, batch_dims=1)
        explained = tf.reduce_sum(
            shares * tf.one_hot(class_id, tf.shape(shares)[-1])[:, None, :], axis=-1)
        return {**units.outputs(), "class_attributions": shares, "attributions": explained,
                "probabilities": served_p, "baseline_probabilities": served_p0,
                "class_id": class_id, "label": label_encoder.labels(class_id),
                "probability": pick(served_p), "baseline_probability": pick(served_p0)}

    return explain


def _read_units(members, reader):
    """How many of a text's first units the recurrent members read (None: all), when their
    tokens are the reader's: units after them are not occluded, since removing them
    changes nothing the networks see."""
    lengths = [encoder.num_timesteps + (encoder.split == "bigrams")
               for _, model, encoder in members if not hasattr(model, "kernel")]
    same = all(encoder.split == reader.split or (encoder.split, reader.split) in (
        ("bigrams", "chars"), ("chars", "bigrams"))
        for _, model, encoder in members if not hasattr(model, "kernel"))
    return max(lengths) if lengths and same else None


class _Units:
    """The units of a batch of texts, flat over the batch, and where they are.

    Characters are counted among the text's non-whitespace characters (`chars`,
    what every member reads) in the batch's flat order; offsets are code points
    of the input.
    """

    def __init__(self, reader, texts, limit=None):
        points, keep = encoding.code_points(texts)
        self.points = points
        self.chars = tf.ragged.boolean_mask(points, keep)
        at = tf.ragged.boolean_mask(tf.ragged.range(points.row_lengths()), keep)
        # each character's index among the batch's code points
        self.char_points = tf.gather(points.row_splits, at.value_rowids()) + at.flat_values
        if reader.split == "whitespace":
            tokens = reader.tokens(texts)
            lengths = tf.cast(tf.strings.length(tokens, unit="UTF8_CHAR"), tf.int64)
        else:
            tokens = self.chars
            lengths = tokens.with_flat_values(tf.ones_like(tokens.flat_values, tf.int64))
        self.tokens = tokens
        self.rows = tokens.value_rowids()
        self.start = consecutive_starts(lengths, self.chars.row_splits)  # first character
        row_end = tf.gather(self.chars.row_splits, self.rows + 1)
        self.end = tf.minimum(self.start + lengths.flat_values, row_end)  # after the last
        self.count = tf.shape(self.rows, out_type=tf.int64)[0]
        self.of_char = tf.searchsorted(self.start, tf.range(self.total_chars()),
                                       side="right") - 1
        self._groups(tokens.row_lengths(), tokens.row_splits, limit)

    def total_chars(self):
        return tf.shape(self.chars.flat_values, out_type=tf.int64)[0]

    def _groups(self, per_row, splits, limit):
        """Runs of consecutive units removed together, among each row's first `limit`
        units: `group` (each unit's, numbered over the batch; -1 past the limit),
        `group_rows`, `group_sizes`."""
        local = tf.range(self.count) - tf.gather(splits, self.rows)
        read = per_row if limit is None else tf.minimum(per_row, limit)
        groups = tf.minimum(read, tf.maximum(read // UNITS_PER_RUN, MAX_GROUPS))
        first = tf.concat([[0], tf.cumsum(groups)], axis=0)
        row_read = tf.maximum(tf.gather(read, self.rows), 1)
        self.group = tf.where(local < row_read, tf.gather(first, self.rows)
                              + local * tf.gather(groups, self.rows) // row_read, -1)
        self.group_rows = tf.repeat(tf.range(tf.size(groups, out_type=tf.int64)), groups)
        grouped = self.group >= 0
        self.group_sizes = tf.math.unsorted_segment_sum(
            tf.ones_like(tf.boolean_mask(self.group, grouped), tf.float32),
            tf.boolean_mask(self.group, grouped), first[-1])

    def of_groups(self, per_group):
        """[groups, ...] -> [units, ...]: each unit's group's row, zeros past the limit."""
        grouped = self.group >= 0
        found = tf.gather(per_group, tf.maximum(self.group, 0))
        return tf.where(tf.reshape(grouped, [-1] + [1] * (len(found.shape) - 1)), found,
                        tf.zeros_like(found))

    def without_groups(self):
        """[groups] texts: each group's text with the group's characters removed."""
        group_of_point = tf.tensor_scatter_nd_update(
            tf.fill(tf.shape(self.points.flat_values, out_type=tf.int64), tf.constant(-1, tf.int64)),
            self.char_points[:, None], tf.gather(self.group, self.of_char))
        points = tf.gather(self.points, self.group_rows)
        owner = tf.gather(self.points.with_flat_values(group_of_point), self.group_rows)
        mine = tf.range(tf.size(self.group_rows, out_type=tf.int64))
        kept = tf.not_equal(owner.flat_values, tf.gather(mine, owner.value_rowids()))
        return tf.strings.reduce_join(tf.ragged.boolean_mask(points, owner.with_flat_values(kept)),
                                      axis=1)

    def dense(self, flat):
        """[units, ...] -> [batch, most units, ...], zeros past a row's units."""
        return tf.RaggedTensor.from_value_rowids(
            flat, self.rows, nrows=self.tokens.nrows(), validate=False).to_tensor()

    def of_chars(self, per_char):
        """[characters, classes] -> [batch, most units, classes]: each unit's sum."""
        return self.dense(tf.math.unsorted_segment_sum(per_char, self.of_char, self.count))

    def outputs(self):
        points = self.char_points
        return {"tokens": self.tokens.to_tensor(""),
                "token_starts": self.dense(tf.gather(points, self.start) - tf.gather(
                    self.points.row_splits, self.rows)),
                "token_ends": self.dense(tf.gather(points, self.end - 1) + 1 - tf.gather(
                    self.points.row_splits, self.rows)),
                "num_tokens": self.tokens.row_lengths()}


def consecutive_starts(lengths, char_splits):
    """Flat [tokens] index of each token's first character among the batch's characters,
    for ragged [batch, None] `lengths` of tokens that cover their text's characters in
    order (words)."""
    flat = lengths.flat_values
    rows = lengths.value_rowids()
    before = tf.cumsum(flat, exclusive=True)
    row_first = tf.gather(tf.concat([before, [0]], axis=0), lengths.row_splits[:-1])
    return tf.gather(char_splits, rows) + before - tf.gather(row_first, rows)


def _wide_shares(model, featurizer, texts, units):
    """(p_wide [batch, classes], p_wide of the empty text, [batch, units, classes] each
    unit's share of their difference)."""
    occurrences = _occurrences(featurizer, units.chars)
    features = featurizer.rows(*occurrences[:2], texts)  # featurizer(texts), cut once
    z = tf.cast(model(features), tf.float32)
    z0 = tf.broadcast_to(model.temperature * model.bias, tf.shape(z))
    per_char = _logit_terms(model, featurizer, features, occurrences, units)
    # the features no n-gram places (the mean-vectors block), evenly over the characters
    rows = units.chars.value_rowids()
    placed = tf.math.unsorted_segment_sum(per_char, rows, tf.shape(z, out_type=tf.int64)[0])
    per_count = (z - z0 - placed) / tf.maximum(
        tf.cast(units.chars.row_lengths(), tf.float32), 1.0)[:, None]
    per_char += tf.gather(per_count, rows)
    steps = _path(z0, z, lambda logits: tf.nn.softmax(logits, axis=-1))
    shares = _through_softmax(steps, tf.ones_like(steps), units.of_chars(per_char))
    return tf.nn.softmax(z, axis=-1), tf.nn.softmax(z0, axis=-1), shares


def _occurrences(featurizer, chars):
    """(feature, row, first character, width) of every feature occurrence in `chars`
    (ragged [batch, None] characters): what the featurizer counts, and where."""
    from textrnn.training.wide.ngrams import WORD_MARK
    found = []
    for n in featurizer.orders:
        grams = tf.strings.ngrams(chars, n, separator="")
        rows = grams.value_rowids()
        local = tf.range(tf.size(grams.flat_values, out_type=tf.int64)) - tf.gather(
            grams.row_splits, rows)
        found.append((grams.flat_values, rows, tf.gather(chars.row_splits, rows) + local,
                      tf.fill(tf.shape(rows), tf.constant(n, tf.int64))))
    if featurizer.segmenter is not None:
        words = featurizer.segmenter(tf.strings.reduce_join(chars, axis=1))
        lengths = tf.cast(tf.strings.length(words, unit="UTF8_CHAR"), tf.int64)
        found.append((tf.strings.join([WORD_MARK, words.flat_values]), words.value_rowids(),
                      consecutive_starts(lengths, chars.row_splits), lengths.flat_values))
    return tuple(tf.concat(parts, axis=0) for parts in zip(*found))


def _logit_terms(model, featurizer, features, occurrences, units):
    """[characters, classes]: each character's share of the n-gram features' terms of the
    wide logits (`features`: the TF-IDF rows of the `occurrences`)."""
    grams, rows, starts, widths = occurrences
    ids = featurizer.table.lookup(grams)
    known = ids >= 0
    rows, ids, starts, widths = (tf.boolean_mask(t, known) for t in (rows, ids, starts, widths))
    width = tf.constant(featurizer.num_ngrams, tf.int64)
    ngram = features.indices[:, 1] < width  # sorted row-major, so their keys are sorted
    keys = tf.boolean_mask(features.indices[:, 0] * width + features.indices[:, 1], ngram)
    values = tf.boolean_mask(features.values, ngram)
    mine = rows * width + ids
    _, which, counts = tf.unique_with_counts(mine, out_idx=tf.int64)
    share = (tf.gather(values, tf.searchsorted(keys, mine))
             / tf.cast(tf.gather(counts, which) * widths, tf.float32))
    terms = model.temperature * share[:, None] * tf.gather(model.kernel, ids)
    chars = tf.repeat(starts, widths) + tf.ragged.range(widths).flat_values
    return tf.math.unsorted_segment_sum(tf.repeat(terms, widths, axis=0), chars,
                                        units.total_chars())


def _occlusion_shares(model, encoder, texts, units):
    """(p [batch, classes], p of the empty text, [batch, units, classes] each unit's
    share: the drop of p when its group is removed, over the group's units)."""
    probabilities = lambda t: tf.nn.softmax(
        tf.cast(model(encoder.encode(t)[0], training=False), tf.float32), axis=-1)
    p = probabilities(texts)
    p0 = probabilities(tf.fill(tf.shape(texts), ""))
    variants = tf.nn.softmax(_by_length(model, encoder, units.without_groups()), axis=-1)
    drops = tf.gather(p, units.group_rows) - variants
    return p, p0, units.dense(units.of_groups(drops / units.group_sizes[:, None]))


def _by_length(model, encoder, texts):
    """The model's float32 logits of `texts`, run in LENGTH_CHUNKS calls of texts of
    similar length, each padded to its own longest: the variants of a batch differ in
    length as much as its texts do, and a recurrent step costs the same padded or not."""
    ids = encoder.ids(texts)
    order = tf.argsort(ids.row_lengths(), stable=True)
    ids = tf.gather(ids, order)
    size = (tf.shape(order)[0] + LENGTH_CHUNKS - 1) // LENGTH_CHUNKS
    # one row of one token ends each chunk, so that none is empty
    spare = tf.RaggedTensor.from_row_lengths(tf.constant([encoder.unk_id], tf.int32), [1],
                                             validate=False)
    logits = [model(encoder.pad(tf.concat([ids[k * size:(k + 1) * size], spare], axis=0)),
                    training=False)[:-1] for k in range(LENGTH_CHUNKS)]
    logits = tf.cast(tf.concat(logits, axis=0), tf.float32)
    return tf.gather(logits, tf.math.invert_permutation(order))


def _path(start, end, function):
    """[batch, STEPS, classes]: `function` at the midpoints of STEPS equal steps from
    `start` to `end` ([batch, classes] each)."""
    alphas = (tf.range(STEPS, dtype=tf.float32) + 0.5) / STEPS
    return function(start[:, None, :] + alphas[None, :, None] * (end - start)[:, None, :])


def _through_softmax(p, scale, shares):
    """Shares of a softmax's input ([batch, units, classes]) as shares of its output: the
    mean over the path's steps of the softmax's Jacobian (at outputs `p` [batch, steps,
    classes]) times the shares scaled by `scale` (the input's derivative, [batch, steps,
    classes]): p * s - p (p . s), summed without a [batch, steps, units, classes] tensor."""
    weighted = p * scale
    dots = tf.einsum("bsj,buj->bsu", weighted, shares)
    return (shares * tf.reduce_mean(weighted, axis=1)[:, None, :]
            - tf.einsum("bsc,bsu->buc", p, dots) / STEPS)


def _calibrated_shares(baseline, mixture, shares, temperature):
    """Shares of the mixture's probabilities as shares of the calibrated ones:
    softmax(log m / T) has input derivative 1 / (T m)."""
    m = _path(baseline, mixture, lambda m: m)
    return _through_softmax(calibrated(m, temperature), 1.0 / (temperature * tf.maximum(m, TINY)),
                            shares)
