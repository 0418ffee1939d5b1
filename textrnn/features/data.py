"""tf.data input pipelines over prepared files (`label<TAB>tok tok tok`; several labels:
`label1|label2<TAB>...`, whose targets the label encoder makes 0/1 rows).

Lines are read with TextLineDataset and batched before encoding, so the
string splitting and table lookups run once per batch, vectorised, rather
than once per example.
"""

import os

import tensorflow as tf

from textrnn.util.errors import UserError

AUTOTUNE = tf.data.AUTOTUNE


def split_file(data_dir, split):
    path = os.path.join(data_dir, f"{split}.txt")
    if not os.path.isfile(path):
        raise UserError(f"{path}: missing; is {data_dir} a textrnn-prepare output folder?")
    return path


def lines(path, every=1):
    """A prepared split's lines; with `every` = k, lines 0, k, 2k, ...: a uniform
    sample of the file whatever order its labels come in."""
    dataset = tf.data.TextLineDataset(path)
    if every > 1:
        dataset = dataset.enumerate().filter(lambda i, _: i % every == 0).map(
            lambda _, line: line)
    return dataset


def fields(lines):
    """[batch] prepared lines (`label<TAB>tok tok ...`) -> (labels, texts): the one
    in-graph reading of the prepared format, for the recurrent and the wide path."""
    split = tf.strings.split(lines, "\t", maxsplit=1).to_tensor("")
    return split[:, 0], split[:, 1]


def _parse_batch(lines, token_encoder, label_encoder, pad=True):
    """[batch] lines -> (ids [batch, time], label ids [batch]); ragged ids if not pad."""
    labels, texts = fields(lines)
    ids = token_encoder.ids(texts)
    return (token_encoder.pad(ids) if pad else ids), label_encoder.ids(labels)


def _encoded_examples(lines, token_encoder, label_encoder):
    """One (ids, label) element per line, ids of varying length."""
    return (lines.batch(1024)
            .map(lambda b: _parse_batch(b, token_encoder, label_encoder, pad=False),
                 num_parallel_calls=AUTOTUNE, deterministic=True)
            .unbatch()
            # Rows of a ragged batch unbatch as rank-0-ragged specs; padded_batch
            # wants plain tensors.
            .map(lambda ids, label: (tf.identity(ids), label)))


def _lines(files, input_context=None):
    files = [files] if isinstance(files, str) else list(files)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if input_context and input_context.num_input_pipelines > 1:
        # Shard by file when each worker can get its own; else by line.
        if len(files) >= input_context.num_input_pipelines:
            dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
            return dataset.interleave(tf.data.TextLineDataset)
        lines = dataset.interleave(tf.data.TextLineDataset)
        return lines.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset.interleave(tf.data.TextLineDataset)


BUCKET_WIDTH = 16  # tokens: a batch of similar lengths pads at most this many a text


def _bucketed(examples, token_encoder, label_encoder, batch_size):
    """Full batches of an endless stream of examples whose lengths fall in the same
    BUCKET_WIDTH-token range, each padded to its longest: the stream's order within
    each range, any range's batch as soon as it is full."""
    limit = token_encoder.num_timesteps
    boundaries = list(range(BUCKET_WIDTH + 1, limit + 1, BUCKET_WIDTH))
    return examples.bucket_by_sequence_length(
        lambda ids, label: tf.shape(ids)[0], boundaries, [batch_size] * (len(boundaries) + 1),
        padded_shapes=([None], label_encoder.padded_shape),
        padding_values=(token_encoder.pad_id, label_encoder.padding),
        drop_remainder=True)


def train_dataset(files, token_encoder, label_encoder, batch_size, shuffle_buffer=10000,
                  seed=None, cache=False, input_context=None, bucket_by_length=False):
    """Endless stream of shuffled (ids, labels) batches for training.

    Reshuffled on every pass, like the original's per-epoch permutation.
    Batches are full (the stream repeats), which keeps shapes static.

    Without `cache` the lines stream from disk and are encoded batch by
    batch, so memory stays flat whatever the corpus size. With it the
    *encoded* examples are kept in memory after the first pass, and later
    passes only shuffle and pad: on two cores the encoding otherwise competes
    with the training step for CPU.

    With `bucket_by_length`, the shuffled examples are batched with others of
    a similar length (`_bucketed`).
    """
    lines = _lines(files, input_context)
    if cache or bucket_by_length:
        examples = _encoded_examples(lines, token_encoder, label_encoder)
        if cache:
            examples = examples.cache()
        if shuffle_buffer > 1:
            examples = examples.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if bucket_by_length:
            dataset = _bucketed(examples.repeat(), token_encoder, label_encoder, batch_size)
        else:
            dataset = examples.repeat().padded_batch(
                batch_size,
                padded_shapes=([token_encoder.padded_length()], label_encoder.padded_shape),
                padding_values=(token_encoder.pad_id, label_encoder.padding),
                drop_remainder=True)
    else:
        if shuffle_buffer > 1:
            lines = lines.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        dataset = (lines.repeat()
                   .batch(batch_size, drop_remainder=True)
                   .map(lambda b: _parse_batch(b, token_encoder, label_encoder),
                        num_parallel_calls=AUTOTUNE, deterministic=True))
    dataset = dataset.prefetch(AUTOTUNE)
    # The lookup tables are constant, so the stream position can be saved in a
    # checkpoint without them (resume continues the same shuffled order).
    options = tf.data.Options()
    options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE
    return dataset.with_options(options)


SORTED_CHUNK = 32  # batches of lines sorted by length together, for evaluation


def eval_dataset(files, token_encoder, label_encoder, batch_size, input_context=None,
                 sort_by_length=False):
    """Every example exactly once, in file order, the last partial batch included; with
    `sort_by_length`, each SORTED_CHUNK batches' worth of lines is sorted by length
    before it is cut into batches, which then pad less (an order fit to score, not to
    train from)."""
    lines = _lines(files, input_context)
    if not sort_by_length:
        return (lines.batch(batch_size)
                .map(lambda b: _parse_batch(b, token_encoder, label_encoder),
                     num_parallel_calls=AUTOTUNE, deterministic=True)
                .prefetch(AUTOTUNE))

    def sorted_chunk(chunk):
        ids, labels = _parse_batch(chunk, token_encoder, label_encoder, pad=False)
        order = tf.argsort(ids.row_lengths(), stable=True)
        return tf.gather(ids, order), tf.gather(labels, order)

    def batches(ids, labels):
        count = (tf.shape(labels, out_type=tf.int64)[0] + batch_size - 1) // batch_size
        return tf.data.Dataset.range(count).map(
            lambda i: (token_encoder.pad(ids[i * batch_size:(i + 1) * batch_size]),
                       labels[i * batch_size:(i + 1) * batch_size]))

    return (lines.batch(batch_size * SORTED_CHUNK)
            .map(sorted_chunk, num_parallel_calls=AUTOTUNE, deterministic=True)
            .flat_map(batches)
            .prefetch(AUTOTUNE))
