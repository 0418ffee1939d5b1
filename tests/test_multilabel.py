"""Several labels a text: reading, preparation, the BCE objective, thresholds, scores,
and a tiny model end to end (train -> SavedModel -> predict / evaluate)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_cli, write_multilabel_corpus
from textrnn.features.encoding import MultiLabelEncoder
from textrnn.text.prepare import prepare
from textrnn.text import corpus
from textrnn.training import metrics, multilabel
from textrnn.training.objectives import MultiLabel
from textrnn.util.errors import UserError


def _splits(root):
    return {s: str(root / f"{s}.txt") for s in ("train", "val", "test")}


def test_label_fields_split_and_bad_ones_name_the_line():
    assert corpus.split_labels("b| a |c", "|", "f.txt", 3) == ["b", "a", "c"]
    with pytest.raises(UserError, match=r"f\.txt:3: an empty label in 'a\|\|b'"):
        corpus.split_labels("a||b", "|", "f.txt", 3)
    with pytest.raises(UserError, match=r"f\.txt:4: the label 'a' is given twice"):
        corpus.split_labels("a|b|a", "|", "f.txt", 4)


def test_prepare_keeps_every_label_and_records_multi_label(tmp_path):
    raw = write_multilabel_corpus(tmp_path / "raw", counts=(40, 10, 10))
    manifest = prepare(_splits(raw), tmp_path / "out", tokenizer="char", num_workers=1,
                       progress_every=0, multi_label=True)
    assert manifest["multi_label"] and manifest["label_separator"] == "|"
    assert manifest["splits"]["train"]["lines"] == 40
    raw_lines = (raw / "train.txt").read_text(encoding="utf-8").splitlines()
    prepared = (tmp_path / "out" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert [p.split("\t")[0] for p in prepared] == [r.split("\t")[0] for r in raw_lines]
    per_label = sum(len(r.split("\t")[0].split("|")) for r in raw_lines)
    assert sum(manifest["splits"]["train"]["labels"].values()) == per_label
    categories = (tmp_path / "out" / "categories.txt").read_text(encoding="utf-8").split()
    assert categories == sorted({l for r in raw_lines for l in r.split("\t")[0].split("|")})


def test_prepare_names_bad_label_fields_and_labels_train_lacks(tmp_path):
    raw = write_multilabel_corpus(tmp_path / "raw", counts=(20, 5, 5))
    with open(raw / "val.txt", "a", encoding="utf-8") as out:
        out.write("cat|cat\t猫猫\n")
    with pytest.raises(UserError, match=r"val\.txt:6: the label 'cat' is given twice"):
        prepare(_splits(raw), tmp_path / "out", tokenizer="char", multi_label=True,
                progress_every=0)
    lines = (raw / "val.txt").read_text(encoding="utf-8").splitlines()[:5]
    (raw / "val.txt").write_text("\n".join(lines + ["cat|horse\t猫马"]) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"labels that the training file does not have: "
                                        r"'horse' \(first at .*val\.txt:6\)"):
        prepare(_splits(raw), tmp_path / "out", tokenizer="char", multi_label=True,
                progress_every=0)
    assert not (tmp_path / "out").exists()


def test_single_label_preparation_of_multi_label_data_says_what_to_do(tmp_path):
    raw = write_multilabel_corpus(tmp_path / "raw", counts=(20, 20, 20))
    result = run_cli("prepare", f"--train={raw}/train.txt", f"--val={raw}/val.txt",
                     f"--test={raw}/test.txt", "--tokenizer=char", f"--out_dir={tmp_path}/o")
    assert "prepare with --multi_label" in result.stderr, result.stderr


def test_multi_label_encoder_gives_zero_one_rows(tmp_path):
    categories = tmp_path / "categories.txt"
    categories.write_text("a\nb\nc\n", encoding="utf-8")
    encoder = MultiLabelEncoder(str(categories), "|")
    rows = encoder.ids(tf.constant(["a", "c|a", "b"])).numpy()
    np.testing.assert_array_equal(rows, [[1, 0, 0], [1, 0, 1], [0, 1, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="categories.txt does not have"):
        encoder.ids(tf.constant(["a|zzz"]))


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_binary_cross_entropy_matches_numpy(smoothing):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(5, 4)).astype(np.float32) * 3
    targets = (rng.random((5, 4)) < 0.4).astype(np.float32)
    objective, plain = MultiLabel(smoothing).loss(tf.constant(logits), tf.constant(targets))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    bce = lambda t: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(plain.numpy(), bce(targets), rtol=1e-5)
    np.testing.assert_allclose(objective.numpy(), bce(targets * (1 - smoothing) + smoothing / 2),
                               rtol=1e-5)


def test_positive_weights_scale_each_labels_positive_term():
    from textrnn.training.objectives import objective, prior_logits
    rates = np.array([0.5, 0.2, 0.01])
    encoder = type("Encoder", (), {"multi_label": True})()
    weighted = objective(encoder, 0.0, "sqrt", rates)
    np.testing.assert_allclose(weighted.positive_weights, [1.0, 2.0, np.sqrt(99)], rtol=1e-6)
    logits = np.array([[0.3, -1.0, 2.0]], np.float32)
    targets = np.array([[1.0, 1.0, 0.0]], np.float32)
    got, plain = weighted.loss(tf.constant(logits), tf.constant(targets))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    terms = -(weighted.positive_weights * targets * np.log(p) + (1 - targets) * np.log(1 - p))
    np.testing.assert_allclose(got.numpy(), terms.mean(-1), rtol=1e-5)
    assert objective(encoder, 0.0, "none", rates).positive_weights is None
    # the head's biases start at the base rates
    np.testing.assert_allclose(1 / (1 + np.exp(-prior_logits(rates))), rates, rtol=1e-6)


def test_scores_match_a_hand_count():
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0]], bool)
    predicted = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]], bool)
    s = metrics.label_sets(truth, predicted)
    # tp 3, fp 1, fn 1: micro-F1 6 / 8
    assert s["micro_f1"] == pytest.approx(0.75)
    # per-label F1: a 1.0, b 2/3, c 0.0
    assert s["f1"] == pytest.approx([1.0, 2 / 3, 0.0])
    assert s["macro_f1"] == pytest.approx(5 / 9)
    assert s["exact_match"] == pytest.approx(1 / 3)
    assert s["hamming_loss"] == pytest.approx(2 / 9)
    assert s["support"] == [2, 1, 1] and s["labels_present"] == 3


def _synthetic(n, rng, shift):
    """Probabilities whose right threshold is 0.5 for label 0 and 0.5 + shift for label 1."""
    truth = rng.random((n, 3)) < 0.3
    noise = rng.normal(0, 0.12, (n, 3))
    probabilities = np.clip(np.where(truth, 0.7, 0.3) + noise, 0, 1)
    probabilities[:, 1] = np.clip(probabilities[:, 1] + shift, 0, 1)
    return probabilities.astype(np.float32), truth


def test_thresholds_near_the_global_one_when_labels_share_one():
    rng = np.random.default_rng(0)
    p, truth = _synthetic(400, rng, 0.0)
    chosen = multilabel.choose_thresholds(p, truth)
    assert 0.4 <= chosen.global_threshold <= 0.6
    assert max(abs(t - chosen.global_threshold) for t in chosen.per_label) <= 0.1


def test_thresholds_per_label_when_a_label_needs_its_own():
    rng = np.random.default_rng(0)
    p, truth = _synthetic(400, rng, 0.3)
    chosen = multilabel.choose_thresholds(p, truth)
    assert chosen.tuned_labels == 3
    assert chosen.per_label[1] > chosen.per_label[0] + 0.15
    # the same data with too few positives a label keeps the global threshold
    few = multilabel.choose_thresholds(p, truth, min_positives=10_000)
    assert few.tuned_labels == 0 and "no label has" in few.why


def test_top_label_rule_when_probabilities_are_low():
    rng = np.random.default_rng(0)
    truth = np.zeros((300, 3), bool)
    truth[np.arange(300), rng.integers(0, 3, 300)] = True
    # two texts in three are confident (0.9 for their label, 0.4 for the others), the rest
    # are not (0.3 and 0.1): no one threshold serves both, the top label does
    p = np.where(truth, 0.3, 0.1) + rng.normal(0, 0.02, truth.shape)
    p[:200] = np.where(truth[:200], 0.9, 0.4) + rng.normal(0, 0.02, (200, 3))
    chosen = multilabel.choose_thresholds(p.astype(np.float32), truth)
    assert chosen.top_label
    decided = multilabel.decide(p, chosen.per_label, chosen.top_label)
    assert decided.any(1).all()


def test_tiny_multi_label_model_end_to_end(multilabel_model, tmp_path):
    raw, model_dir, metrics = multilabel_model
    assert metrics["test_micro_f1"] > 0.6, metrics
    assert {"test_macro_f1", "test_exact_match", "thresholds"} <= set(metrics)
    thresholds = json.loads((model_dir / "thresholds.json").read_text())
    info = json.loads((model_dir / "export" / "assets.extra" / "textrnn.json").read_text())
    # calibrated per-label probabilities: the thresholds shown move with them
    from textrnn.training import calibration
    temperature = calibration.Calibration.load(str(model_dir)).temperature
    assert info["multi_label"] and info["confidence"] == {"temperature": temperature}
    assert info["thresholds"] == pytest.approx(
        calibration.temper_labels(thresholds["per_label"], temperature).tolist(), abs=1e-6)
    assert metrics["calibration"]["val_log_loss_after"] <= \
        metrics["calibration"]["val_log_loss_before"]
    thresholds["per_label"] = info["thresholds"]
    # the SavedModel decides what numpy decides at the thresholds
    texts = [line.split("\t")[1] for line in
             (raw / "test.txt").read_text(encoding="utf-8").splitlines()]
    serve = tf.saved_model.load(str(model_dir / "export")).signatures["serving_default"]
    out = serve(text=tf.constant(texts))
    probabilities = out["probabilities"].numpy()
    expected = multilabel.decide(probabilities, thresholds["per_label"], thresholds["top_label"])
    labels = info["labels"]
    got = [[l.decode() for l in row if l] for row in out["labels"].numpy()]
    assert [sorted(g) for g in got] == [sorted(labels[j] for j in np.flatnonzero(row))
                                        for row in expected]
    for row, p in zip(got, probabilities):  # most probable first
        ranked = [p[labels.index(l)] for l in row]
        assert ranked == sorted(ranked, reverse=True)
    np.testing.assert_array_equal(out["num_labels"].numpy(), expected.sum(1))
    assert out["labels"].shape == (len(texts), len(labels))


def test_predict_and_evaluate_a_multi_label_model(multilabel_model, tmp_path):
    raw, model_dir, metrics = multilabel_model
    result = run_cli("predict", f"--model_dir={model_dir}", "--format=json", "一只猫和一条鱼")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert {l["label"] for l in row["labels"]} <= {"cat", "dog", "fish", "bird"}
    assert all(0 <= l["probability"] <= 1 for l in row["labels"]) and "top_k" in row
    report_path = tmp_path / "report.json"
    plot = tmp_path / "labels.svg"
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={raw}/test.txt",
                     f"--report={report_path}", f"--plot={plot}")
    assert result.returncode == 0, result.stderr
    for words in ("micro-F1", "macro-F1", "exact match", "Hamming loss", "support"):
        assert words in result.stdout
    report = json.loads(report_path.read_text())
    # the file's scores are the ones training measured on the same test split
    assert report["micro_f1"] == pytest.approx(metrics["test_micro_f1"], abs=1e-6)
    assert report["exact_match"] == pytest.approx(metrics["test_exact_match"], abs=1e-6)
    assert plot.read_text().startswith("<?xml")
    # each (text, label) probability against whether the label is given: 4 labels a text
    calibration = report["calibration"]
    assert 0 <= calibration["ece"] <= 1 and "ECE" in result.stdout
    assert sum(b["count"] for b in calibration["reliability"]) == 4 * report["examples"]
    assert (tmp_path / "labels.reliability.svg").read_text().startswith("<?xml")


def test_a_multi_label_model_exports_alone(multilabel_model, tmp_path):
    from textrnn.training import export
    _, model_dir, _ = multilabel_model
    import shutil
    copy = shutil.copytree(model_dir, tmp_path / "copy", ignore=shutil.ignore_patterns("export"))
    with pytest.raises(UserError, match="exports alone, not in an ensemble"):
        export.export_models([str(model_dir), str(copy)], str(tmp_path / "e"))


def test_the_wide_path_of_a_multi_label_model_is_mixed_and_recorded(multilabel_model):
    _, model_dir, metrics = multilabel_model
    wide = metrics["wide"]
    assert 0.0 <= wide["weight"] <= 1.0
    assert set(wide["val_micro_f1"]) == {"mixture", "recurrent", "wide"}
    assert len(wide["curve"]["test_micro_f1"]) == len(wide["curve"]["weights"])
    assert wide["val_micro_f1"]["wide"] > 0.5  # cue characters are 1-grams: easy for it
    info = json.loads((model_dir / "export" / "assets.extra" / "textrnn.json").read_text())
    assert info["members"][0]["wide"]["weight"] == wide["weight"]


def test_the_service_serves_a_multi_label_model(multilabel_model):
    from test_serve import Service
    raw, model_dir, _ = multilabel_model
    texts = ["一只猫和一条鱼", "狗", ""]
    serve = tf.saved_model.load(str(model_dir / "export")).signatures["serving_default"]
    expected = serve(text=tf.constant(texts))
    service = Service(f"--model_dir={model_dir}")
    try:
        status, body = service.predict({"instances": texts})
        assert status == 200, body
        for row, want, count in zip(body["predictions"], expected["labels"].numpy(),
                                    expected["num_labels"].numpy()):
            assert row["labels"] == [l.decode() for l in want]
            assert row["num_labels"] == count
            assert len(row["thresholds"]) == len(row["probabilities"]) == 4
        status, body = service.predict({"inputs": {"text": texts[:2]}})
        assert status == 200 and len(body["outputs"]["labels"]) == 2
    finally:
        service.stop()


def test_make_train_multi_label_runs_the_auto_recipe_end_to_end(tmp_path):
    """`make train DATA=tiny MULTI_LABEL=1`: prepared as several labels a text, the auto
    recipe's multi-label choices, a SavedModel that gives label sets."""
    from conftest import run_make_train
    data = write_multilabel_corpus(tmp_path / "tiny", counts=(200, 60, 60))
    run = tmp_path / "run"
    out, err, code = run_make_train(f"DATA={data}", f"RUN={run}", "MULTI_LABEL=1",
                                    "TRAIN_ARGS=--num_train_steps=20 --nowide_words")
    said = out + err
    assert code == 0, said[-3000:]
    assert "4 labels, " in said and "--keep_prob=1.0: several labels a text" in said
    assert "thresholds: global threshold" in said
    assert out.strip().splitlines()[-1].startswith("step 20: test micro-F1 ")
    manifest = json.loads((run / "prepared" / "manifest.json").read_text())
    assert manifest["multi_label"]
    serve = tf.saved_model.load(str(run / "model" / "export")).signatures["serving_default"]
    assert {"labels", "num_labels", "thresholds", "probabilities"} <= set(
        serve.structured_outputs)


def test_the_wide_path_scores_and_calibrates_label_rows():
    from textrnn.training.wide import linear
    scores = np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, -2.0]], np.float32)
    rows = np.array([[1, 0, 0], [0, 1, 1]], np.float32)
    # one binary SVM a label: the hinge's signs are the rows themselves
    np.testing.assert_array_equal(linear._targets(tf.constant(rows), 3).numpy(), rows)
    np.testing.assert_array_equal(linear._targets(tf.constant([2, 0]), 3).numpy(),
                                  [[0, 0, 1], [1, 0, 0]])
    # its own decisions (score > 0): tp 2, fp 1, fn 1
    assert linear.decision_score(scores, rows) == pytest.approx(4 / 6)
    p = linear.probabilities(scores, 2.0, multi_label=True)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-2.0 * scores)), rtol=1e-6)
    expected = -(rows * np.log(p) + (1 - rows) * np.log(1 - p)).mean()
    assert linear.log_loss(p, rows) == pytest.approx(expected, rel=1e-6)
    model = linear.WideModel(4, 3)
    temperature = linear.calibrate(model, scores, rows)
    losses = [linear.log_loss(linear.probabilities(scores, t, True), rows)
              for t in linear.TEMPERATURES]
    assert temperature == pytest.approx(linear.TEMPERATURES[int(np.argmin(losses))])


def test_sets_and_abstaining_are_refused_for_a_multi_label_model(multilabel_model, tmp_path):
    from textrnn.training import export
    from textrnn.util.errors import UserError
    _, model_dir, _ = multilabel_model
    with pytest.raises(UserError, match="for single-label models"):
        export.export_models([str(model_dir)], str(tmp_path / "x"),
                             confidence=dict(abstain_target_accuracy=0.9))
