"""training/metrics.py: the scores and the calibration figures, against their definitions."""

import numpy as np
import pytest

from textrnn.training import metrics


def test_the_class_report_follows_its_definitions():
    report = metrics.classes([0, 0, 1, 2], [0, 1, 1, 1], 3)
    assert report["accuracy"] == 0.5 and report["confusion_matrix"] == [[1, 1, 0], [0, 1, 0],
                                                                        [0, 1, 0]]
    assert report["precision"] == [1.0, 1 / 3, 0.0] and report["recall"] == [0.5, 1.0, 0.0]
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3)


def test_a_calibrated_model_has_a_small_ece_and_an_overconfident_one_its_gap():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, 200_000)
    right = rng.uniform(size=confidence.size) < confidence
    assert metrics.expected_calibration_error(confidence, right) < 0.005
    assert metrics.expected_calibration_error(confidence, right, equal_mass=True) < 0.005
    over = rng.uniform(size=confidence.size) < confidence - 0.2
    assert metrics.expected_calibration_error(confidence, over) == pytest.approx(0.2, abs=0.01)


def test_equal_mass_bins_hold_as_many_texts_each():
    confidence = np.linspace(0.5, 1.0, 150) ** 3
    index = metrics._bins(confidence, 15, equal_mass=True)
    assert np.bincount(index).tolist() == [10] * 15
    assert (np.diff(index[np.argsort(confidence)]) >= 0).all()


def test_brier_and_log_loss_of_certain_and_uniform_answers():
    right = metrics.calibration(np.eye(3), [0, 1, 2])
    assert right["brier"] == 0 and right["log_loss"] == pytest.approx(0, abs=1e-9)
    assert right["ece"] == 0
    uniform = metrics.calibration(np.full((3, 3), 1 / 3), [0, 1, 2])
    assert uniform["brier"] == pytest.approx(2 / 3) and uniform["log_loss"] == pytest.approx(
        np.log(3))


def test_label_calibration_treats_each_label_as_a_decision():
    p = np.array([[0.9, 0.1], [0.8, 0.3]])
    truth = np.array([[1, 0], [0, 0]])
    figures = metrics.label_calibration(p, truth)
    assert figures["brier"] == pytest.approx(np.mean((p - truth) ** 2))
    assert sum(b["count"] for b in figures["reliability"]) == 4
