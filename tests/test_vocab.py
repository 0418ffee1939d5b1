"""Vocabulary and categories: file format, threshold semantics, ids."""

import collections

import pytest

from textrnn.text.vocab import PAD, UNK, Categories, Vocabulary, write_categories, write_counts
from textrnn.util.errors import UserError


@pytest.fixture
def vocab_file(tmp_path):
    path = tmp_path / "vocab.txt"
    write_counts(path, collections.Counter({"的": 30, "球队": 12, "股市": 12, "冷门": 3, "罕见": 1}))
    return path


def test_vocab_file_has_reserved_tokens_first_then_count_desc_token_asc(vocab_file):
    lines = vocab_file.read_text(encoding="utf-8").splitlines()
    assert lines == [f"{PAD}\t0", f"{UNK}\t0", "的\t30", "球队\t12", "股市\t12", "冷门\t3", "罕见\t1"]


def test_threshold_keeps_tokens_with_count_at_least_threshold(vocab_file):
    vocab = Vocabulary.load(vocab_file, num_word_threshold=10)
    assert vocab.tokens == (PAD, UNK, "的", "球队", "股市")
    assert (vocab.pad_id, vocab.unk_id) == (0, 1)


def test_threshold_one_keeps_everything(vocab_file):
    assert len(Vocabulary.load(vocab_file, num_word_threshold=1)) == 7


def test_unknown_tokens_map_to_unk_in_the_graph(vocab_file, tmp_path):
    import tensorflow as tf
    from textrnn.features.encoding import TokenEncoder
    vocab = Vocabulary.load(vocab_file, num_word_threshold=10)
    vocab.write_tokens(tmp_path / "tokens.txt")
    encoder = TokenEncoder(str(tmp_path / "tokens.txt"), vocab.unk_id, 10)
    assert encoder(tf.constant(["球队 冷门 没见过"])).numpy().tolist() == [[3, 1, 1]]


def test_max_vocab_size_caps_total(vocab_file):
    assert Vocabulary.load(vocab_file, 1, max_vocab_size=4).tokens == (PAD, UNK, "的", "球队")


def test_tokens_file_round_trip(vocab_file, tmp_path):
    vocab = Vocabulary.load(vocab_file, num_word_threshold=3)
    vocab.write_tokens(tmp_path / "tokens.txt")
    assert Vocabulary.from_tokens_file(tmp_path / "tokens.txt") == vocab


def test_tf1_vocabulary_keeps_unk_position_and_has_no_pad(tmp_path):
    path = tmp_path / "tf1_vocab.txt"
    path.write_text("的\t100\n<UNK>\t50\n球队\t20\n冷门\t2\n", encoding="utf-8")
    vocab = Vocabulary.load(path, num_word_threshold=10, reserve_pad=False)
    assert vocab.tokens == ("的", UNK, "球队") and vocab.unk_id == 1 and vocab.pad_id is None


def test_threshold_that_empties_the_vocabulary_is_an_error(vocab_file):
    with pytest.raises(UserError, match="lower --num_word_threshold"):
        Vocabulary.load(vocab_file, num_word_threshold=1000)


def test_malformed_vocab_line_names_file_and_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("<PAD>\t0\n<UNK>\t0\n球队 12\n", encoding="utf-8")
    with pytest.raises(UserError, match="vocab.txt:3"):
        Vocabulary.load(path)


def test_categories_follow_line_order_and_round_trip(tmp_path):
    path = tmp_path / "categories.txt"
    write_categories(path, ["体育", "财经", "房产"])
    categories = Categories.load(path)
    assert categories.labels == ("体育", "财经", "房产") and categories.id("房产") == 2


def test_unknown_category_is_a_clear_error(tmp_path):
    path = tmp_path / "categories.txt"
    write_categories(path, ["体育", "财经"])
    with pytest.raises(UserError, match="unknown category '游戏'"):
        Categories.load(path).id("游戏")
