"""The studies' own helpers (benchmarks/studies/): outside `make test`, run with
`python -m pytest benchmarks/studies`."""

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "studies"))


def test_mixture_rules_pick_from_val_and_score_on_test():
    import mixture_rules
    curve = dict(weights=[0.0, 0.25, 0.5, 0.75, 1.0],
                 val_accuracy=[0.80, 0.84, 0.83, 0.86, 0.70],   # a lone peak at 0.75
                 val_log_loss=[0.60, 0.45, 0.40, 0.50, 0.90],
                 test_accuracy=[0.79, 0.85, 0.86, 0.82, 0.71])
    assert mixture_rules.accuracy(curve) == 3
    assert mixture_rules.log_loss(curve) == 2
    assert mixture_rules.smoothed(curve, half=1) == 2   # window means .820 .823 .843 .797 .780
    assert mixture_rules.one_se(curve, val_texts=100) == 2  # .84, .83, .86 within 0.035 of .86
    peers = {"corpora": {"c": {"systems": {"textrnn": {"runs": [
        dict(seed=1, weight_curve=curve), dict(seed=2, weight_curve=None)]}}}}}
    row = mixture_rules.compare(peers, sizes={"c": 100})["c"]["textrnn"]
    assert row["accuracy"] == 0.82 and row["log_loss"] == 0.86 and row["seeds"] == [1]


def test_per_label_temperatures_fit_each_label_with_enough_positives():
    import numpy as np
    import calibration
    from textrnn.training.wide import linear
    rng = np.random.default_rng(0)
    labels = np.zeros((200, 3), np.float32)
    labels[:60, 0], labels[:3, 1] = 1, 1  # label 2 has no positive at all
    # label 0's scores separate it sharply: its own fit wants a high temperature
    scores = np.where(labels > 0, 2.0, -2.0) + rng.normal(0, 0.1, labels.shape)
    got = calibration.per_label_temperatures(scores, labels, shared=1.0, minimum=5)
    own = [linear.log_loss(linear.sigmoid(scores[:, :1], t), labels[:, :1])
           for t in linear.TEMPERATURES]
    assert got[0] == linear.TEMPERATURES[int(np.argmin(own))] and got[0] > 1.0
    assert got[1] == got[2] == 1.0  # under the minimum of positives: the shared one


def test_mixture_probabilities_temper_and_build_the_rules_curves():
    import numpy as np
    import mixture_probabilities as mp
    labels = np.array([0, 1, 2, 1])
    timid = np.full((4, 3), 0.2) + 0.4 * np.eye(3)[labels]  # right, at 0.6: under-confident
    np.testing.assert_allclose(mp.tempered(timid, 1.0), timid, rtol=1e-6)
    assert mp.tempered(timid, 3.0)[0, 0] > 0.6
    assert mp.fit_temperature(timid, labels) > 1.0  # always right: sharpening lowers log-loss
    wrong = np.full((4, 3), 0.2) + 0.4 * np.eye(3)[(labels + 1) % 3]
    c = mp.curve(dict(val=timid, test=wrong), dict(val=wrong, test=timid),
                 dict(val=labels, test=labels))
    assert c["val_accuracy"][0] == 1.0 and c["val_accuracy"][-1] == 0.0
    assert c["test_accuracy"][0] == 0.0 and c["test_accuracy"][-1] == 1.0
    assert len(c["val_log_loss"]) == len(c["weights"])
    assert c["val_log_loss"][0] < c["val_log_loss"][-1]


def test_pretrained_options_become_the_training_flags_they_name():
    import pretrained
    vectors = "--pretrained_embeddings=v.vec"
    assert pretrained.flags_for("random", None, "v.vec", 300) == []
    assert pretrained.flags_for("train", None, "v.vec", 300) == [vectors]
    assert pretrained.flags_for("thaw", None, "v.vec", 300) == [
        vectors, "--freeze_embedding_steps=100"]
    assert pretrained.flags_for("slow", None, "v.vec", 300) == [
        vectors, "--embedding_lr_scale=0.1"]
    assert pretrained.flags_for("rescaled", None, "v.vec", 300) == [vectors, "--rescale_vectors"]
    assert pretrained.flags_for("half_dropout", None, "v.vec", 300) == [
        vectors, "--embedding_dropout=0.5"]


def test_pretrained_train_sample_keeps_val_and_test_whole(tmp_path):
    import pretrained
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "train.txt").write_text("".join(f"a\t{i}\n" for i in range(10)), encoding="utf-8")
    (raw / "dev.txt").write_text("a\tv\n", encoding="utf-8")
    (raw / "test.txt").write_text("a\tt\n", encoding="utf-8")
    assert pretrained.sample_train(str(raw), str(tmp_path / "small"), 4) == str(tmp_path / "small")
    lines = (tmp_path / "small" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and lines == sorted(lines, key=lambda l: int(l.split("\t")[1]))
    assert set(lines) <= {f"a\t{i}" for i in range(10)}
    assert pretrained.sample_train(str(raw), str(tmp_path / "again"), 4) and (
        (tmp_path / "again" / "train.txt").read_text(encoding="utf-8").splitlines() == lines)
    assert (tmp_path / "small" / "val.txt").read_text(encoding="utf-8") == "a\tv\n"
    assert (tmp_path / "small" / "test.txt").read_text(encoding="utf-8") == "a\tt\n"
    with pytest.raises(SystemExit, match="has only 10 lines"):
        pretrained.sample_train(str(raw), str(tmp_path / "big"), 10)


def test_wide_vectors_mean_is_normalised_over_the_characters_with_a_vector():
    import numpy as np
    import wide_vectors
    matrix = np.array([[3.0, 0.0], [0.0, 4.0]], np.float32)
    got = wide_vectors.mean_vectors(["ab", "aax", "x", ""], {"a": 0, "b": 1}, matrix)
    np.testing.assert_allclose(got, [[0.6, 0.8], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
                               atol=1e-6)


def test_wide_vectors_alpha_zero_is_the_plain_svm_and_vectors_can_decide():
    """Train texts of two classes share no character with test's; only the vectors
    (one direction a class) carry the class to test."""
    pytest.importorskip("sklearn")
    import numpy as np
    import wide_vectors
    from textrnn.text.vectors import Vectors
    pos, neg = "甲乙丙丁", "子丑寅卯"
    split = lambda chars, label, n: ([chars[i % 2] + chars[(i + 1) % 2] for i in range(n)],
                                     [label] * n)
    def corpus(a, b):
        (pa, la), (na, lb) = split(a, "p", 6), split(b, "n", 6)
        return pa + na, la + lb
    splits = dict(train=corpus(pos[:2], neg[:2]), val=corpus(pos[2:], neg[2:]),
                  test=corpus(pos[2:], neg[2:]))
    matrix = np.array([[1, 0]] * 4 + [[0, 1]] * 4, np.float32)
    vectors = Vectors("v.vec", 2, list(pos + neg), matrix, 8)
    found = wide_vectors.svm_by_alpha(splits, vectors, [0.0, 1.0])
    assert found[1.0][:2] == (1.0, 1.0)
    assert found[0.0][1] == 0.5  # no train n-gram in test: one class for every text


def test_wide_vectors_runs_pairs_each_run_with_its_copy_and_averages_by_corpus(tmp_path):
    import wide_vectors_runs
    run = tmp_path / "tnews-s2"
    (run / "model").mkdir(parents=True)
    (run / "prepared").mkdir()
    (run / "model" / "config.json").write_text(json.dumps(
        {"train": {"seed": 2, "pretrained_embeddings": "/v.vec"}}), encoding="utf-8")
    (run / "prepared" / "manifest.json").write_text(json.dumps(
        {"splits": {"train": {"source": "/data/tnews/train.txt"}}}), encoding="utf-8")
    assert wide_vectors_runs.describe(str(run)) == ("tnews", 2, "/v.vec")
    (run / "model" / "metrics.json").write_text(json.dumps(
        {"test_accuracy": 0.5, "val_accuracy": 0.52,
         "wide": {"weight": 0.5, "seconds": 10.0}}), encoding="utf-8")
    assert wide_vectors_runs.arm(str(run / "model"))["vector_weight"] is None
    assert not wide_vectors_runs.trained_with_vectors(str(run))
    side = lambda t: dict(test_accuracy=t)
    runs = [dict(corpus="a", seed=1, without=side(0.5), with_vectors=side(0.52)),
            dict(corpus="a", seed=2, without=side(0.6), with_vectors=side(0.6)),
            dict(corpus="b", seed=1, without=side(0.9), with_vectors=side(0.89))]
    got = wide_vectors_runs.summarise(runs)
    assert got["a"]["seeds"] == [1, 2] and got["a"]["gain"] == pytest.approx(0.01)
    assert got["b"]["gain"] == pytest.approx(-0.01)
