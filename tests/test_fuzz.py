"""Bad input, fuzzed: the reader, preparation and prediction never crash uncleanly."""

import re

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import reference_ids, run_cli
from textrnn.features.encoding import _WHITESPACE, TokenEncoder
from textrnn.text.prepare import prepare
from textrnn.text.corpus import BadLines, read_labelled
from textrnn.text.tokenize import bigrams, char_tokens
from textrnn.text.vocab import Vocabulary
from textrnn.util.errors import UserError

FILE_LINE = re.compile(r"raw\.txt:\d+: ")
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow])

lines = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=100)).map(
        lambda lt: f"{lt[0]}\t{lt[1]}".encode("utf-8")),
    st.just(b"\x00\t\x00"), st.just("体育\t" + "长" * 100000),
)
files = st.lists(lines, min_size=1, max_size=20).flatmap(
    lambda ls: st.sampled_from([b"\n", b"\r\n", b"\r"]).map(lambda end: end.join(
        l if isinstance(l, bytes) else l.encode() for l in ls)))


@settings(max_examples=200, **SETTINGS)
@given(data=files)
def test_reader_yields_rows_or_names_file_and_line(tmp_path, data):
    path = tmp_path / "raw.txt"
    path.write_bytes(data)
    try:
        rows = list(read_labelled(str(path)))
    except UserError as error:
        assert FILE_LINE.search(str(error)) or "raw.txt: the file is empty" in str(error)
        return
    for _, label, text in rows:
        assert label == label.strip() and label and text.strip()


@settings(max_examples=100, **SETTINGS)
@given(data=files)
def test_skip_bad_lines_never_raises_on_line_problems(tmp_path, data):
    path = tmp_path / "raw.txt"
    path.write_bytes(data)
    if not data:
        return
    bad = BadLines()
    rows = list(read_labelled(str(path), bad))
    assert bad.count + len(rows) <= data.count(b"\n") + 1


@settings(max_examples=40, **SETTINGS)
@given(data=files)
def test_prepare_succeeds_or_raises_a_user_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "raw.txt"
    path.write_bytes(data)
    try:
        prepare({s: str(path) for s in ("train", "val", "test")}, folder / "out",
                tokenizer="char", progress_every=0)
    except UserError as error:
        assert "raw.txt" in str(error)
        assert not (folder / "out").exists()
        return
    assert (folder / "out" / "manifest.json").exists()


def test_in_graph_whitespace_is_exactly_pythons():
    chars = [chr(i) for i in range(0x10000) if not 0xD800 <= i < 0xE000]
    matched = tf.strings.regex_full_match(tf.constant([c.encode() for c in chars]), _WHITESPACE)
    assert [c for c, m in zip(chars, matched.numpy()) if m != c.isspace()] == []


@pytest.fixture(scope="module")
def char_vocab(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "tokens.txt"
    path.write_text("<PAD>\n<UNK>\n" + "\n".join("体育财经房产ab1，。") + "\n体育\n财经\nab\n",
                    encoding="utf-8")
    return Vocabulary.from_tokens_file(path), str(path)


@pytest.fixture(scope="module")
def char_encoders(char_vocab):
    """One TokenEncoder per split (building its lookup table costs more than a call)."""
    vocab, path = char_vocab
    return {split: TokenEncoder(path, vocab.unk_id, 100, split=split)
            for split in ("chars", "bigrams")}


@settings(max_examples=150, **SETTINGS)
@given(text=st.text(max_size=60))
def test_in_graph_char_split_matches_the_python_char_tokenizer(char_vocab, char_encoders, text):
    vocab, _ = char_vocab
    ids = char_encoders["chars"](tf.constant([text])).numpy()[0]
    expected = reference_ids(vocab, char_tokens(text)) or [vocab.unk_id]
    assert ids.tolist()[:len(expected)] == expected and not ids[len(expected):].any()


@settings(max_examples=150, **SETTINGS)
@given(text=st.one_of(st.text(max_size=60), st.text("体育财经 ab\t\u3000", max_size=30)))
def test_in_graph_bigrams_match_the_python_bigrams(char_vocab, char_encoders, text):
    vocab, _ = char_vocab
    ids = char_encoders["bigrams"](tf.constant([text])).numpy()[0]
    expected = reference_ids(vocab, bigrams(char_tokens(text))) or [vocab.unk_id]
    assert ids.tolist()[:len(expected)] == expected and not ids[len(expected):].any()


@settings(max_examples=3, **SETTINGS)  # each example starts the CLI: seconds apiece
@given(data=st.binary(min_size=1, max_size=300))
def test_predict_cli_on_random_bytes_prints_rows_or_a_clean_error(trained_model, tmp_path_factory, data):
    model_dir, _ = trained_model
    path = tmp_path_factory.mktemp("fuzz") / "texts.txt"
    path.write_bytes(data)
    result = run_cli("predict", f"--model_dir={model_dir}", f"--input_file={path}", "--format=json")
    assert "Traceback" not in result.stderr
    if result.returncode:
        assert re.search(r"texts\.txt:\d+: ", result.stderr)
    else:
        assert len(result.stdout.splitlines()) == data.count(b"\n") + (not data.endswith(b"\n"))


@settings(max_examples=60, **SETTINGS)
@given(texts=st.lists(st.text(max_size=300), min_size=1, max_size=8))
def test_saved_model_gives_valid_probabilities_for_any_text(trained_model, texts):
    model_dir, _ = trained_model
    serve = _served(str(model_dir / "export"))
    probabilities = serve(text=tf.constant(texts))["probabilities"].numpy()
    assert probabilities.shape == (len(texts), 10) and np.isfinite(probabilities).all()


_CACHE = {}


def _served(path):
    if path not in _CACHE:
        _CACHE[path] = tf.saved_model.load(path).signatures["serving_default"]
    return _CACHE[path]
