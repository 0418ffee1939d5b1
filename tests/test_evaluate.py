"""textrnn-evaluate: the numbers, the report, the tables, the errors."""

import json

import numpy as np

from conftest import DEMO, run_cli
from textrnn.evaluate import scores


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
