"""The tf.data pipeline: padding, truncation, labels, coverage, determinism."""

import numpy as np
import pytest
import tensorflow as tf

from textrnn.features import data
from textrnn.features.encoding import LabelEncoder, TokenEncoder
from textrnn.text.vocab import Vocabulary


@pytest.fixture(scope="module")
def encoders(demo_prepared, tmp_path_factory):
    vocab = Vocabulary.load(demo_prepared / "vocab.txt", num_word_threshold=2)
    tokens = tmp_path_factory.mktemp("tok") / "tokens.txt"
    vocab.write_tokens(tokens)
    return vocab, TokenEncoder(str(tokens), vocab.unk_id, 20), LabelEncoder(str(demo_prepared / "categories.txt"))


def test_ids_are_right_padded_with_pad_and_truncated(encoders):
    vocab, encoder, _ = encoders
    word = vocab.tokens[5]
    ids = encoder(tf.constant([f"{word} 没见过的词", " ".join([word] * 30)])).numpy()
    assert ids.shape == (2, 20)
    assert ids[0, :2].tolist() == [5, vocab.unk_id] and (ids[0, 2:] == 0).all()
    assert (ids[1] == 5).all()


def test_empty_text_becomes_one_unk_so_no_row_is_fully_masked(encoders):
    vocab, encoder, _ = encoders
    ids = encoder(tf.constant(["", "   "])).numpy()
    assert ids[:, 0].tolist() == [vocab.unk_id] * 2


def test_batch_is_padded_to_its_longest_text_only(encoders):
    vocab, encoder, _ = encoders
    assert encoder(tf.constant(["的 的", "的"])).shape == (2, 2)


def test_original_padding_uses_unk_to_full_length(encoders, tmp_path):
    vocab, _, _ = encoders
    tokens = tmp_path / "tokens.txt"
    vocab.write_tokens(tokens)
    encoder = TokenEncoder(str(tokens), vocab.unk_id, 20, padding="original")
    ids = encoder(tf.constant(["的"])).numpy()
    assert ids.shape == (1, 20) and (ids[0, 1:] == vocab.unk_id).all()


def test_char_split_works_on_raw_text(encoders, tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("<PAD>\n<UNK>\n球\n队\n", encoding="utf-8")
    encoder = TokenEncoder(str(tokens), 1, 10, split="chars")
    assert encoder(tf.constant(["球 队赢", "球队"])).numpy().tolist() == [[2, 3, 1], [2, 3, 0]]


def test_eval_dataset_covers_every_example_once_with_partial_last_batch(encoders, demo_prepared):
    _, encoder, labels = encoders
    batches = list(data.eval_dataset(str(demo_prepared / "test.txt"), encoder, labels, 64))
    assert [b[0].shape[0] for b in batches] == [64, 64, 64, 58]
    got = np.concatenate([b[1].numpy() for b in batches])
    categories = (demo_prepared / "categories.txt").read_text(encoding="utf-8").split()
    expected = [categories.index(line.split("\t")[0]) for line in
                (demo_prepared / "test.txt").read_text(encoding="utf-8").splitlines()]
    assert got.tolist() == expected


def test_train_dataset_yields_full_int_batches_with_labels_in_range(encoders, demo_prepared):
    _, encoder, labels = encoders
    dataset = data.train_dataset(str(demo_prepared / "train.txt"), encoder, labels, 32, seed=3)
    for ids, y in dataset.take(60):  # more than one pass over 1,500 lines
        assert ids.shape[0] == 32 and ids.dtype == tf.int32 and 1 <= ids.shape[1] <= 20
        assert y.dtype == tf.int64 and 0 <= int(tf.reduce_min(y)) and int(tf.reduce_max(y)) < 10


def test_train_dataset_is_deterministic_with_a_seed(encoders, demo_prepared):
    _, encoder, labels = encoders

    def first_labels(seed):
        dataset = data.train_dataset(str(demo_prepared / "train.txt"), encoder, labels, 16, seed=seed)
        return np.concatenate([y.numpy() for _, y in dataset.take(5)]).tolist()

    assert first_labels(7) == first_labels(7) != first_labels(8)


def test_missing_split_file_is_a_clear_error(tmp_path):
    from textrnn.util.errors import UserError
    with pytest.raises(UserError, match="textrnn-prepare output"):
        data.split_file(str(tmp_path), "train")


def test_cached_stream_yields_the_same_examples_as_the_streaming_one(encoders, demo_prepared):
    _, encoder, labels = encoders
    path = str(demo_prepared / "train.txt")

    def examples(cache):
        dataset = data.train_dataset(path, encoder, labels, 50, shuffle_buffer=1, cache=cache)
        rows = []
        for ids, y in dataset.take(30):  # 1,500 lines: exactly one pass
            rows += [(tuple(int(i) for i in row if i), int(label)) for row, label in zip(ids.numpy(), y.numpy())]
        return rows

    assert examples(cache=True) == examples(cache=False)


def _rows(batches):
    """(unpadded ids, label) of every example of some batches, sorted."""
    return sorted((tuple(int(i) for i in row if i), int(label))
                  for ids, y in batches for row, label in zip(ids.numpy(), y.numpy()))


def test_bucketed_batches_hold_texts_of_one_length_range(encoders, demo_prepared, tmp_path,
                                                        monkeypatch):
    vocab, _, labels = encoders
    vocab.write_tokens(tmp_path / "tokens.txt")
    encoder = TokenEncoder(str(tmp_path / "tokens.txt"), vocab.unk_id, 60)
    monkeypatch.setattr(data, "BUCKET_WIDTH", 4)  # headlines: a few to 40 tokens
    path = str(demo_prepared / "train.txt")
    dataset = data.train_dataset(path, encoder, labels, 32, seed=3, cache=True,
                                 bucket_by_length=True)
    lengths_seen = set()
    for ids, y in dataset.take(60):
        lengths = (ids.numpy() != 0).sum(axis=1)
        assert ids.shape[0] == 32 == y.shape[0] and ids.shape[1] == lengths.max()
        ranges = {(n - 1) // data.BUCKET_WIDTH for n in lengths}
        assert len(ranges) == 1, lengths  # every text of the batch in one range of lengths
        lengths_seen |= ranges
    assert len(lengths_seen) > 1  # and batches of the other ranges in between
    plain = list(data.eval_dataset(str(demo_prepared / "test.txt"), encoder, labels, 64))
    monkeypatch.setattr(data, "SORTED_CHUNK", 2)
    ordered = list(data.eval_dataset(str(demo_prepared / "test.txt"), encoder, labels, 64,
                                     sort_by_length=True))
    assert [len(b[1]) for b in ordered] == [64, 64, 64, 58]  # 128 lines sorted, then 122
    for ids, _ in ordered:
        lengths = (ids.numpy() != 0).sum(axis=1)
        assert (np.diff(lengths) >= 0).all() and ids.shape[1] == lengths.max()
    assert _rows(ordered) == _rows(plain)  # every example once, in some order
