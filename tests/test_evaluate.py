"""textrnn-evaluate: the numbers, the report, the tables, the errors."""

import json

import numpy as np
import pytest

from conftest import DEMO, run_cli
from textrnn.training.metrics import classes as scores


def test_accuracy_on_demo_test_matches_metrics_json(trained_model, tmp_path):
    model_dir, metrics = trained_model
    report_path = tmp_path / "report.json"
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={DEMO / 'test.txt'}",
                     f"--report={report_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["examples"] == 250 and report["input_format"] == "raw"
    assert abs(report["accuracy"] - metrics["test_accuracy"]) < 1e-9


def test_prepared_file_gives_the_same_report_as_raw(trained_model, demo_prepared, tmp_path):
    model_dir, metrics = trained_model
    result = run_cli("evaluate", f"--model_dir={model_dir}",
                     f"--input_file={demo_prepared / 'test.txt'}", f"--report={tmp_path / 'r.json'}")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["input_format"] == "prepared"
    assert abs(report["accuracy"] - metrics["test_accuracy"]) < 1e-9


def test_printed_tables_label_macro_f1_and_confusion_matrix(trained_model):
    model_dir, _ = trained_model
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={DEMO / 'val.txt'}")
    assert "macro-F1" in result.stdout and "confusion matrix" in result.stdout
    assert "precision  recall      F1  support" in result.stdout


def test_scores_from_a_known_confusion():
    report = scores(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    assert report["accuracy"] == 3 / 5
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    np.testing.assert_allclose(report["precision"], [0.5, 2 / 3, 0.0])
    np.testing.assert_allclose(report["recall"], [0.5, 1.0, 0.0])
    np.testing.assert_allclose(report["macro_f1"], (0.5 + 0.8 + 0.0) / 3)


def test_unknown_labels_are_listed_with_file_and_line(trained_model, tmp_path):
    model_dir, _ = trained_model
    path = tmp_path / "test.txt"
    path.write_text("体育\t球队赢了\n汽车\t新车发布\n", encoding="utf-8")
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={path}")
    assert result.returncode != 0 and "'汽车' (first at" in result.stderr and "test.txt:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_format_prints_the_report_on_stdout(trained_model, tmp_path):
    model_dir, metrics = trained_model
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={DEMO / 'test.txt'}",
                     "--format=json", f"--report={tmp_path / 'r.json'}")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert abs(printed["accuracy"] - metrics["test_accuracy"]) < 1e-9
    # the demo test set is in-domain: few of its tokens are unknown
    assert 0 <= printed["unknown_tokens"]["mean_share"] < 0.3


def test_the_report_says_how_calibrated_the_probabilities_are(trained_model):
    """ECE, Brier and log-loss are those of the served probabilities, computed again here
    from serving_default on the same texts."""
    from textrnn.serving.inference import Predictor
    from textrnn.text import corpus
    from textrnn.training import metrics as scoring
    model_dir, _ = trained_model
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={DEMO / 'test.txt'}",
                     "--format=json")
    assert result.returncode == 0, result.stderr[-2000:]
    reported = json.loads(result.stdout)["calibration"]
    predictor = Predictor(str(model_dir / "export"))
    rows = list(corpus.read_labelled(str(DEMO / "test.txt")))
    p = predictor.run([text for _, _, text in rows])["probabilities"]
    ids = [predictor.labels.index(label) for _, label, _ in rows]
    expected = scoring.calibration(p, ids)
    for key in ("ece", "ece_equal_mass", "brier", "log_loss"):
        assert reported[key] == pytest.approx(expected[key], abs=1e-6), key
    table = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={DEMO / 'test.txt'}")
    assert f"ECE {reported['ece']:.4f} (15 equal-width bins)" in table.stdout


def test_plot_writes_svg_with_text_and_png(trained_model, tmp_path):
    model_dir, _ = trained_model
    for name in ("cm.svg", "cm.png"):
        result = run_cli("evaluate", f"--model_dir={model_dir}",
                         f"--input_file={DEMO / 'test.txt'}", f"--plot={tmp_path / name}")
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"confusion matrix drawn to {tmp_path / name}" in result.stderr
        stem, suffix = name.split(".")
        assert (tmp_path / f"{stem}.reliability.{suffix}").stat().st_size > 0
        assert (tmp_path / f"{stem}.coverage.{suffix}").stat().st_size > 0
    svg = (tmp_path / "cm.svg").read_text(encoding="utf-8")
    assert "体育" in svg  # the labels are text, drawn by the viewer's fonts
    assert "predicted class" in svg and "true class" in svg
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from textrnn.util import plots
    if plots.cjk_font() is None:  # no font draws the labels: ids and a legend file
        legend = (tmp_path / "cm.png.labels.txt").read_text(encoding="utf-8").splitlines()
        assert len(legend) == 10 and legend[0].startswith("0\t")


def test_out_of_vocabulary_texts_are_flagged(trained_model, tmp_path):
    model_dir, _ = trained_model
    path = tmp_path / "foreign.txt"
    labels = (DEMO / "test.txt").read_text(encoding="utf-8").splitlines()[0].split("\t")[0]
    path.write_text(f"{labels}\tZyxq Wvut Srqp 乂乃乄\n" * 3, encoding="utf-8")
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={path}",
                     "--format=json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["unknown_tokens"]["texts_over_threshold"] == 3
    assert "warning: 3 of 3 texts (100%) have more than 50% of their tokens outside" in result.stderr


def test_json_lines_give_the_same_report_as_the_tsv(trained_model, tmp_path):
    from textrnn.text import corpus
    model_dir, metrics = trained_model
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps({"content": text, "category": label}, ensure_ascii=False)
                            + "\n" for _, label, text in
                            corpus.read_labelled(str(DEMO / "test.txt"))), encoding="utf-8")
    result = run_cli("evaluate", f"--model_dir={model_dir}", f"--input_file={path}",
                     "--text_column=content", "--label_column=category", "--format=json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert abs(json.loads(result.stdout)["accuracy"] - metrics["test_accuracy"]) < 1e-9


def test_the_report_scores_the_sets_and_abstaining_the_model_serves(abstaining_export):
    """Coverage, mean set size, the answered share and their accuracy, computed again here
    from serving_default's outputs on the same texts; and the lines for people."""
    from textrnn.serving.inference import Predictor
    from textrnn.text import corpus
    export_dir = abstaining_export[0]
    result = run_cli("evaluate", f"--saved_model={export_dir}",
                     f"--input_file={DEMO / 'test.txt'}", "--format=json")
    assert result.returncode == 0, result.stderr[-2000:]
    reported = json.loads(result.stdout)["confidence"]
    predictor = Predictor(export_dir)
    rows = list(corpus.read_labelled(str(DEMO / "test.txt")))
    out = predictor.run([text for _, _, text in rows])
    truth = [label for _, label, _ in rows]
    covered = [label in chosen for label, chosen in zip(truth, out["label_set"])]
    assert reported["sets"]["alpha"] == 0.2
    assert reported["sets"]["coverage"] == pytest.approx(np.mean(covered))
    assert reported["sets"]["mean_set_size"] == pytest.approx(out["set_size"].mean())
    answered = ~out["abstain"]
    right = np.array([predictor.labels[i] == t for i, t in
                      zip(out["probabilities"].argmax(1), truth)])
    assert reported["abstain"]["answered"] == pytest.approx(answered.mean())
    assert reported["abstain"]["answered_accuracy"] == pytest.approx(right[answered].mean())
    assert reported["curve"][-1]["coverage"] == 1.0
    assert reported["curve"][-1]["accuracy"] == pytest.approx(right.mean())
    table = run_cli("evaluate", f"--saved_model={export_dir}", f"--input_file={DEMO / 'test.txt'}")
    assert f"prediction sets (alpha 0.2): coverage {reported['sets']['coverage']:.4f}" in \
        table.stdout
    assert f"{reported['abstain']['answered']:.1%} answered" in table.stdout
