"""Pretrained vectors in the wide path: the mean-vectors block, its weight chosen on val,
and a run whose exported model serves it from raw text."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_MODEL
from test_vectors import write_text
from test_wide import reference_features
from textrnn.text import vectors
from textrnn.training import artifacts
from textrnn.training.wide import mean_vectors, ngrams

ROWS = {"新": [3.0, 0.0, 0.0], "闻": [0.0, 4.0, 0.0], "体": [0.0, 0.0, 2.0],
        "新闻": [1.0, 1.0, 1.0], "育": [1.0, 1.0, 0.0]}
TEXTS = ["新闻", "新 新\t闻x", "xyz", "", "体育新闻"]


def reference_means(texts, rows):
    """Each text's mean vector over its characters with one, L2-normalised (zeros when
    none has one), in plain numpy."""
    out = []
    for text in texts:
        found = [rows[c] for c in text if not c.isspace() and c in rows]
        mean = np.mean(found, axis=0) if found else np.zeros(3)
        norm = np.linalg.norm(mean)
        out.append(mean / norm if norm else mean)
    return np.array(out)


@pytest.fixture
def block_dir(tmp_path):
    kept = mean_vectors.keep(write_text(tmp_path / "v.vec", ROWS), ["新", "闻", "x"], max_added=1)
    mean_vectors.save(str(tmp_path), kept)
    return tmp_path, kept


def test_only_single_characters_are_kept_train_first_then_the_file_up_to_the_cap(block_dir):
    _, kept = block_dir
    assert kept.tokens == ["新", "闻", "体"]  # 新闻 is no character; 育 is over the cap
    np.testing.assert_array_equal(kept.matrix, [ROWS["新"], ROWS["闻"], ROWS["体"]])


def test_the_block_is_the_direction_of_the_mean_of_the_characters_with_a_vector(block_dir):
    directory, kept = block_dir
    block = mean_vectors.MeanVectors(str(directory))
    rows = {t: ROWS[t] for t in kept.tokens}
    assert block.dim == 3
    np.testing.assert_allclose(block(tf.constant(TEXTS)).numpy(), reference_means(TEXTS, rows),
                               atol=1e-6)


def save_table(directory, weight):
    """(grams, idf) of TEXTS' n-gram table, saved beside the block at `weight`."""
    grams, idf, _ = ngrams.fit(tf.data.Dataset.from_tensor_slices(TEXTS).batch(2),
                               max_ngrams=100)
    ngrams.save(str(directory), grams, idf, vector_weight=weight)
    return grams, idf


def test_the_featurizer_puts_the_weighted_block_after_the_ngrams(block_dir):
    directory, kept = block_dir
    grams, idf = save_table(directory, 0.6)
    featurizer = ngrams.load(str(directory))
    assert featurizer.num_ngrams == len(grams) and featurizer.num_features == len(grams) + 3
    got = tf.sparse.to_dense(featurizer(tf.constant(TEXTS))).numpy()
    np.testing.assert_allclose(got[:, :len(grams)], reference_features(TEXTS, grams, idf),
                               atol=1e-5)
    rows = {t: ROWS[t] for t in kept.tokens}
    np.testing.assert_allclose(got[:, len(grams):], 0.6 * reference_means(TEXTS, rows),
                               atol=1e-6)


def test_weight_zero_takes_the_block_and_its_files_out_of_the_model(block_dir):
    directory, _ = block_dir
    grams, _ = save_table(directory, 1.0)
    ngrams.set_vector_weight(str(directory), 0.0)
    featurizer = ngrams.load(str(directory))
    assert featurizer.vectors is None and featurizer.num_features == len(grams)
    assert not mean_vectors.saved_in(str(directory))


def test_a_weight_scales_only_the_block_and_zero_drops_its_columns():
    dense = np.array([[0.5, 0.0, 1.0, 2.0], [0.0, 0.25, 0.0, 4.0]], np.float32)
    features = tf.sparse.from_dense(dense)
    scaled = tf.sparse.to_dense(mean_vectors.weighted(features, 2, 0.5)).numpy()
    np.testing.assert_array_equal(scaled, [[0.5, 0.0, 0.5, 1.0], [0.0, 0.25, 0.0, 2.0]])
    plain = mean_vectors.weighted(features, 2, 0.0)
    assert tuple(plain.dense_shape.numpy()) == (2, 2)
    np.testing.assert_array_equal(tf.sparse.to_dense(plain).numpy(), dense[:, :2])


@pytest.mark.parametrize("scores, chosen", [
    ({0.3: 0.70, 0.6: 0.70, 1.0: 0.70}, 0.0),   # a tie keeps the n-grams alone
    ({0.3: 0.60, 0.6: 0.75, 1.0: 0.75}, 0.6),   # the lowest of the best weights
    ({0.3: 0.71, 0.6: 0.69, 1.0: 0.72}, 1.0),
])
def test_the_vectors_weight_must_beat_the_ngrams_alone_on_val(scores, chosen):
    solve = lambda weight: (f"model at {weight}", scores[weight])
    model, score, weight = mean_vectors.choose_vector_weight("plain model", 0.70, solve)
    assert weight == chosen
    assert model == ("plain model" if chosen == 0 else f"model at {chosen}")
    assert score == max([0.70, *scores.values()])


def write_split(path, chars_a, chars_b, n):
    """n texts of each class, a class's texts made of its own characters."""
    lines = [f"{label}\t{chars[i % 2]}{chars[(i + 1) % 2]}{chars[i % 2]}\n"
             for i in range(n) for label, chars in (("甲类", chars_a), ("乙类", chars_b))]
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("use_vectors", [True, False])
def test_vectors_carry_the_class_to_characters_train_never_saw(tmp_path, use_vectors,
                                                              monkeypatch):
    """Val and test share no character with train: the n-grams can only guess, the
    characters' vectors (one direction a class) decide; val chooses the block, the
    exported model serves it from raw text. The vectors file is streamed once: the
    wide path takes its rows from the recurrent model's pass."""
    from textrnn.text.prepare import prepare
    from textrnn.serving.inference import Predictor
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    raw = tmp_path / "raw"
    raw.mkdir()
    write_split(raw / "train.txt", "春夏", "东西", 40)
    write_split(raw / "val.txt", "秋冬", "南北", 10)
    write_split(raw / "test.txt", "秋冬", "南北", 10)
    rows = {c: [1.0, 0.0, 0.1] for c in "春夏秋冬"} | {c: [0.0, 1.0, 0.1] for c in "东西南北"}
    vec = write_text(tmp_path / "v.vec", rows)
    prepare({s: str(raw / f"{s}.txt") for s in ("train", "val", "test")}, tmp_path / "data",
            tokenizer="char", num_workers=1, progress_every=0)
    model_dir = tmp_path / "model"
    settings = {**TINY_MODEL, "num_embedding_size": 3, "num_word_threshold": 1}
    passes = []
    stream = vectors.load_many
    monkeypatch.setattr(vectors, "load_many",
                        lambda path, requests: passes.append(path) or stream(path, requests))
    metrics = train(TrainConfig(data_dir=str(tmp_path / "data"), model_dir=str(model_dir),
                                num_train_steps=10, wide=True, wide_words=False,
                                pretrained_embeddings=vec, wide_vectors=use_vectors,
                                **settings))
    assert passes == [vec]
    assert not (model_dir / artifacts.PRETRAINED_CHARS_DIR).exists()
    info = json.loads((model_dir / "wide" / "wide.json").read_text(encoding="utf-8"))
    features = json.loads((model_dir / "wide" / ngrams.FEATURES_FILE).read_text(encoding="utf-8"))
    if not use_vectors:
        assert info["vector_weight"] is None and features["vector_weight"] is None
        assert info["val_accuracy"]["wide"] == 0.5
        return
    assert info["vector_weight"] == features["vector_weight"] == mean_vectors.VECTOR_WEIGHTS[0]
    assert info["val_accuracy"]["wide"] == 1.0
    texts = [line.split("\t")[1].strip() for line in
             (raw / "test.txt").read_text(encoding="utf-8").splitlines()]
    served = [out["label"].decode("utf-8") if isinstance(out["label"], bytes) else out["label"]
              for _, out in Predictor(str(model_dir / "export")).predict(texts)]
    accuracy = np.mean([label == ("甲类" if text[0] in "秋冬" else "乙类")
                        for label, text in zip(served, texts)])
    assert accuracy == metrics["test_accuracy"] == 1.0


def test_the_block_takes_its_rows_from_a_copy_of_the_files_characters(tmp_path,
                                                                      monkeypatch):
    path = write_text(tmp_path / "v.vec", ROWS)
    streamed = mean_vectors.keep(path, ["新", "闻", "x"], max_added=1)
    copy = str(tmp_path / "copy")
    vectors.save_copy(vectors.load(path, (), 100, vectors.is_character), copy)
    monkeypatch.setattr(vectors, "_open", None)  # the file must not be read again
    kept = mean_vectors.keep(path, ["新", "闻", "x"], max_added=1, copy=copy)
    assert kept.tokens == streamed.tokens == ["新", "闻", "体"]
    np.testing.assert_array_equal(kept.matrix, streamed.matrix)


def test_a_file_without_single_characters_keeps_nothing(tmp_path):
    path = write_text(tmp_path / "w.vec", {"新闻": [1.0, 2.0], "体育": [0.5, 0.5]})
    assert mean_vectors.keep(path, ["新"], max_added=10).tokens == []
    copy = str(tmp_path / "copy")
    vectors.save_copy(vectors.load(path, (), 100, vectors.is_character), copy)
    assert mean_vectors.keep(path, ["新"], max_added=10, copy=copy).tokens == []
    assert vectors.dimension(path) == 2


@pytest.mark.slow
def test_a_multi_label_run_chooses_the_vectors_weight_by_micro_f1_and_serves(tmp_path):
    from conftest import write_multilabel_corpus
    from textrnn.text.prepare import prepare
    from textrnn.serving.inference import Predictor
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    raw = write_multilabel_corpus(tmp_path / "raw", counts=(300, 60, 60))
    chars = sorted({c for line in (raw / "train.txt").read_text(encoding="utf-8").splitlines()
                    for c in line.split("\t")[1]})
    rng = np.random.default_rng(0)
    vec = write_text(tmp_path / "v.vec", {c: rng.normal(0, 1, 4).round(3).tolist()
                                          for c in chars})
    prepare({s: str(raw / f"{s}.txt") for s in ("train", "val", "test")}, tmp_path / "data",
            tokenizer="char", num_workers=1, progress_every=0, multi_label=True)
    model_dir = tmp_path / "model"
    train(TrainConfig(data_dir=str(tmp_path / "data"), model_dir=str(model_dir),
                      num_train_steps=10, wide=True, wide_words=False, pretrained_embeddings=vec,
                      **{**TINY_MODEL, "num_embedding_size": 4, "num_word_threshold": 1}))
    info = json.loads((model_dir / "wide" / "wide.json").read_text(encoding="utf-8"))
    assert info["vector_weight"] in (0.0, *mean_vectors.VECTOR_WEIGHTS)
    assert mean_vectors.saved_in(str(model_dir / "wide")) == (info["vector_weight"] > 0)
    (_, out), = Predictor(str(model_dir / "export")).predict(["猫的一是狗"])
    assert len(out["probabilities"]) == 4
