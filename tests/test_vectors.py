"""Pretrained vectors: the streaming loader, the vocabulary they extend, the rows they
start the embedding from, the freeze and rate settings, and a run end to end."""

import gzip
import json
import math
import os
import struct

import numpy as np
import pytest

from conftest import DEMO
from textrnn.text import tokenize, vectors
from textrnn.text.vocab import PAD, UNK, Vocabulary
from textrnn.util.errors import UserError

ROWS = {"新": [0.5, -1.0, 2.0], "闻": [1.5, 0.25, -0.5], "体": [0.0, 1.0, 1.0],
        "育": [-2.0, 0.5, 0.0], "新闻": [3.0, 3.0, 3.0]}


def write_text(path, rows=ROWS, header=True, opener=open):
    lines = ([f"{len(rows)} {len(next(iter(rows.values())))}\n"] if header else []) + [
        f"{token} {' '.join(map(str, values))}\n" for token, values in rows.items()]
    with opener(path, "wt", encoding="utf-8") as out:
        out.writelines(lines)
    return str(path)


def write_binary(path, rows=ROWS):
    with open(path, "wb") as out:
        out.write(f"{len(rows)} {len(next(iter(rows.values())))}\n".encode())
        for token, values in rows.items():
            out.write(token.encode("utf-8") + b" " + struct.pack(f"<{len(values)}f", *values)
                      + b"\n")
    return str(path)


@pytest.mark.parametrize("form", ["header", "no_header", "gzip", "binary"])
def test_every_format_gives_the_files_vectors(tmp_path, form):
    path = {"header": lambda: write_text(tmp_path / "v.vec"),
            "no_header": lambda: write_text(tmp_path / "v.txt", header=False),
            "gzip": lambda: write_text(tmp_path / "v.vec.gz", opener=gzip.open),
            "binary": lambda: write_binary(tmp_path / "v.bin")}[form]()
    found = vectors.load(path, wanted=["体", "新", "absent"])
    assert found.dim == vectors.dimension(path) == 3 and found.rows_read == len(ROWS)
    assert found.tokens == ["新", "体"]  # file order
    np.testing.assert_array_equal(found.matrix, np.array([ROWS["新"], ROWS["体"]], np.float32))


def test_tokens_the_vocabulary_lacks_are_added_in_file_order_up_to_the_cap(tmp_path):
    path = write_text(tmp_path / "v.vec")
    found = vectors.load(path, wanted=["育"], max_added=2,
                         can_add=lambda t: tokenize.can_produce("char", t))
    assert found.tokens == ["新", "闻", "育"]  # "体" is past the cap, "新闻" not a character
    assert vectors.load(path, wanted=["育"], max_added=0).tokens == ["育"]


def _counting_opens(monkeypatch):
    opens = []
    real = vectors._open
    monkeypatch.setattr(vectors, "_open", lambda path: opens.append(path) or real(path))
    return opens


def test_several_requests_are_served_from_one_pass_as_each_alone(tmp_path, monkeypatch):
    path = write_text(tmp_path / "v.vec")
    requests = [vectors.Request(["育"], 2, vectors.is_character),
                vectors.Request(["新闻"], 1), vectors.Request((), math.inf, vectors.is_character)]
    alone = [vectors.load(path, r.wanted, r.max_added, r.can_add) for r in requests]
    opens = _counting_opens(monkeypatch)
    together = vectors.load_many(path, requests)
    assert len(opens) == 1
    assert [v.tokens for v in together] == [v.tokens for v in alone] == [
        ["新", "闻", "育"], ["新", "新闻"], ["新", "闻", "体", "育"]]
    for one, other in zip(together, alone):
        np.testing.assert_array_equal(one.matrix, other.matrix)


# train's characters and the cap chosen so that wanted and added rows interleave,
# the cap bites, and a wanted token is not in the file
@pytest.mark.parametrize("wanted, cap", [(["育"], 2), (["体", "新"], 1), ([], 3),
                                         (["闻", "x"], 0), (["育", "闻"], 10)])
def test_selecting_from_a_copy_of_every_character_keeps_what_the_file_would(
        tmp_path, wanted, cap):
    path = write_text(tmp_path / "v.vec")
    every = vectors.load(path, (), math.inf, vectors.is_character)
    request = vectors.Request(wanted, cap, vectors.is_character)
    from_copy, from_file = vectors.select(every, request), vectors.load_many(path, [request])[0]
    assert from_copy.tokens == from_file.tokens
    np.testing.assert_array_equal(from_copy.matrix, from_file.matrix)


def test_a_copy_is_read_back_only_while_it_is_whole_and_the_file_unchanged(tmp_path):
    path = write_text(tmp_path / "v.vec")
    kept = vectors.load(path, ["新", "育"])
    copy = str(tmp_path / "copy")
    vectors.save_copy(kept, copy)
    back = vectors.read_copy(copy, path)
    assert back.tokens == kept.tokens and back.dim == 3
    np.testing.assert_array_equal(back.matrix, kept.matrix)
    assert vectors.read_copy(str(tmp_path / "none"), path) is None
    other = write_text(tmp_path / "w.vec")
    assert vectors.read_copy(copy, other) is None  # another file
    with open(path, "a", encoding="utf-8") as grown:
        grown.write("龘 1 2 3\n")
    assert vectors.read_copy(copy, path) is None  # the file changed since
    vectors.save_copy(kept, copy)
    os.remove(os.path.join(copy, vectors.COPY_SOURCE))  # not a copy save_copy left
    assert vectors.read_copy(copy, path) is None


def test_what_each_tokenizer_can_produce():
    assert tokenize.can_produce("char", "新") and not tokenize.can_produce("char", "新闻")
    assert tokenize.can_produce("bigram", "新闻") and not tokenize.can_produce("bigram", "新")
    assert tokenize.can_produce("jieba", "新闻网") and not tokenize.can_produce("jieba", "a b")


BAD = {
    "wrong_count": ("3 3\nA 1 2 3\nB 1 2\nC 1 2 3\n", ":3: 2 values, the header's dimension is 3"),
    "wrong_count_no_header": ("A 1 2 3\nB 1 2 3 4\n", ":2: 4 values, the first row's dimension"),
    "not_a_number": ("2 3\nA 1 2 3\nB 1 x 3\n", ":3: 'x' is not a number"),
    "not_finite": ("1 2\nA 1 nan\n", "the vector of 'A' has a value that is not finite"),
    "header_rows": ("5 3\nA 1 2 3\nB 1 2 3\n", "the header says 5 rows, the file has 2"),
    "empty": ("", "no vectors in the file"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_user_errors_naming_the_place(tmp_path, case):
    text, message = BAD[case]
    path = tmp_path / "bad.vec"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as error:
        vectors.load(str(path), wanted=["A", "B"])
    assert str(path) in str(error.value) and message in str(error.value)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "bad.vec"
    path.write_bytes(b"2 2\nA 1 2\n\xff\xfe 1 2\n")
    with pytest.raises(UserError, match=r"bad\.vec:3: the token is not UTF-8"):
        vectors.load(str(path), wanted=["A"])


def test_a_truncated_binary_file_names_the_row(tmp_path):
    path = write_binary(tmp_path / "v.bin")
    with open(path, "rb") as stream:
        body = stream.read()
    with open(path, "wb") as out:
        out.write(body[:-8])
    with pytest.raises(UserError, match=r"row 5: the file ends inside the row"):
        vectors.load(path, wanted=["新"])


def test_initial_rows_copy_the_file_compose_pairs_and_start_the_rest_at_its_scale(tmp_path):
    found = vectors.load(write_text(tmp_path / "v.vec"), wanted=list(ROWS))
    tokens = (PAD, UNK, "新", "体育", "新闻", "球")
    matrix, covered = vectors.initial_embedding(tokens, found, pad_id=0, seed=1,
                                                parts=lambda pair: list(pair))
    np.testing.assert_array_equal(matrix[2], ROWS["新"])
    np.testing.assert_allclose(matrix[3], np.mean([ROWS["体"], ROWS["育"]], axis=0))
    np.testing.assert_array_equal(matrix[4], ROWS["新闻"])  # the pair's own vector wins
    assert covered == [2, 3, 4] and not matrix[0].any()
    unseen = np.concatenate([matrix[1], matrix[5]])
    assert 0.2 < unseen.std() / found.matrix.std() < 5  # random, at the vectors' scale
    doubled, _ = vectors.initial_embedding(tokens, found, pad_id=0, seed=1,
                                           parts=lambda pair: list(pair), factor=2.0)
    np.testing.assert_allclose(doubled, 2 * matrix, rtol=1e-6)  # every row, one factor


@pytest.mark.parametrize("initializer", ["keras", "original"])
def test_the_random_embeddings_std_is_what_rescaled_vectors_are_given(initializer):
    import keras
    from textrnn.training.recurrent.model import ModelConfig, build_model, embedding_std
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig(vocab_size=2000, num_classes=2, num_embedding_size=64,
                                    num_lstm_nodes=(4,), num_fc_nodes=4,
                                    initializer=initializer))
    table = model.get_layer("embedding").embeddings.numpy()
    assert table.std() == pytest.approx(embedding_std(initializer), rel=0.02)


def test_an_extended_vocabulary_keeps_every_id_and_appends():
    base = Vocabulary((PAD, UNK, "a"), 1, 0)
    assert base.extended(["b", "c"]).tokens == (PAD, UNK, "a", "b", "c")


# ---- training with vectors ------------------------------------------------------------

def _char_vectors(tmp_path, prepared, dim=8, extra=("龘", "齉")):
    """A vectors file over some of the prepared char vocabulary, plus characters train
    lacks; rows are distinct, so a copied row is recognisable."""
    tokens = [line.split("\t")[0] for line in
              open(os.path.join(prepared, "vocab.txt"), encoding="utf-8")][2:60]
    rng = np.random.default_rng(0)
    rows = {t: np.round(rng.normal(0, 0.3, dim), 4).tolist() for t in tokens[::2] + list(extra)}
    return write_text(tmp_path / "chars.vec", rows), rows


def _train(prepared, model_dir, **kw):
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    cfg = TrainConfig(data_dir=str(prepared), model_dir=str(model_dir), num_timesteps=20,
                      num_lstm_nodes=(8,), num_fc_nodes=8, batch_size=32, export=False,
                      log_every_steps=5, eval_every_steps=5, checkpoint_every_steps=5, **kw)
    return cfg, train(cfg)


@pytest.mark.slow
@pytest.mark.parametrize("rescale", [True, False])
def test_a_run_starts_from_the_vectors_and_a_frozen_embedding_does_not_move(
        demo_prepared_char, tmp_path, rescale):
    from textrnn.training.recurrent.model import embedding_std
    from textrnn.training import artifacts
    path, rows = _char_vectors(tmp_path, demo_prepared_char)
    cfg, metrics = _train(demo_prepared_char, tmp_path / "m", num_embedding_size=8,
                          pretrained_embeddings=path, num_train_steps=5,
                          freeze_embedding_steps=5, weight_decay=0.1, rescale_vectors=rescale)
    tokens = Vocabulary.from_tokens_file(str(tmp_path / "m" / "tokens.txt")).tokens
    assert tokens[-2:] == ("龘", "齉")  # unseen in train: added from the file
    model, _, _ = artifacts.load_model(cfg.model_dir)
    table = model.get_layer("embedding").embeddings.numpy()
    record = metrics["pretrained"]
    file_std = np.std(list(rows.values()))
    factor = embedding_std(cfg.initializer) / file_std if rescale else 1.0
    assert record["scaled_by"] == pytest.approx(factor, rel=1e-3)
    for token, values in rows.items():  # frozen for every step, decay excluded
        np.testing.assert_allclose(table[tokens.index(token)], np.multiply(values, factor),
                                   rtol=1e-5)
    assert record["added"] == 2 and record["with_vector"] == len(rows)
    assert 0 < record["val_coverage"] < 1 and 0 < record["train_coverage"] < 1


@pytest.mark.slow
def test_the_embedding_moves_once_unfrozen_and_little_at_a_lower_rate(
        demo_prepared_char, tmp_path):
    from textrnn.training import artifacts
    path, rows = _char_vectors(tmp_path, demo_prepared_char)
    moved = {}  # Adam moves a weight by about the rate each step it trains
    for name, kw in {"slow": dict(embedding_lr_scale=0.1),
                     "thaw": dict(freeze_embedding_steps=3)}.items():
        cfg, _ = _train(demo_prepared_char, tmp_path / name, num_embedding_size=8,
                        pretrained_embeddings=path, num_train_steps=6,
                        rescale_vectors=False, **kw)  # rows start as the file's
        tokens = Vocabulary.from_tokens_file(str(tmp_path / name / "tokens.txt")).tokens
        table = artifacts.load_model(cfg.model_dir, artifacts.CKPT_DIR)[0].get_layer(
            "embedding").embeddings.numpy()
        moved[name] = np.mean([np.abs(table[tokens.index(t)] - v).max()
                               for t, v in rows.items()])
    # thaw: 3 steps at the full rate; slow: 6 steps at a tenth of it
    assert moved["thaw"] > 2 * moved["slow"] > 0


def test_a_width_that_contradicts_the_file_is_refused(demo_prepared_char, tmp_path):
    from textrnn.training.config import TrainConfig
    path, _ = _char_vectors(tmp_path, demo_prepared_char)
    cfg = TrainConfig(data_dir=str(demo_prepared_char), model_dir=str(tmp_path / "m"),
                      pretrained_embeddings=path, num_embedding_size=16)
    with pytest.raises(UserError, match="--num_embedding_size=16 but the vectors .* have 8"):
        cfg.validate()


@pytest.mark.slow
def test_make_train_with_vectors_exports_a_raw_text_model_that_reloads(tmp_path):
    """`make train DATA=tiny VECTORS=file`: the auto recipe takes the vectors' width."""
    data = tmp_path / "tiny"
    data.mkdir()
    for split, n in (("train", 300), ("val", 60), ("test", 60)):
        lines = open(DEMO / f"{split}.txt", encoding="utf-8").readlines()[:n]
        (data / f"{split}.txt").write_text("".join(lines), encoding="utf-8")
    chars = sorted({c for line in open(data / "train.txt", encoding="utf-8")
                    for c in line.split("\t", 1)[1].strip()})[:200]
    rng = np.random.default_rng(1)
    path = write_text(tmp_path / "v.vec.gz", {c: rng.normal(0, 0.2, 12).round(3).tolist()
                                              for c in chars + ["龘"]}, opener=gzip.open)
    run = tmp_path / "run"
    from conftest import run_make_train
    out, err, code = run_make_train(f"DATA={data}", f"RUN={run}", f"VECTORS={path}",
                                    "TRAIN_ARGS=--num_train_steps=10 --nowide")
    said = out + err
    assert code == 0, said[-3000:]
    assert "of val tokens have a vector" in said
    assert "values scaled by" not in said  # --rescale_vectors is off
    assert "--num_embedding_size=12: the pretrained vectors' dimension" in said
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["model"]["num_embedding_size"] == 12
    assert config["vocabulary"]["pretrained"]["added"] >= 1
    from textrnn.serving.inference import Predictor
    predictor = Predictor(str(run / "model" / "export"))
    texts = ["龘 新闻 体育 比赛", "今天 股市 大涨"]
    probabilities = np.array([out["probabilities"] for _, out in predictor.predict(texts)])
    assert probabilities.shape[0] == 2
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
