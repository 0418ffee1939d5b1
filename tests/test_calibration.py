"""Calibration, prediction sets and abstaining: the arithmetic on synthetic data."""

import math

import numpy as np
import pytest

from textrnn.training import calibration
from textrnn.training import metrics
from textrnn.util.errors import UserError


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def draw(rng, n, classes=5, scale=1.5):
    """(true probabilities, labels drawn from them): a perfectly calibrated source."""
    p = softmax(rng.normal(size=(n, classes)) * scale)
    labels = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
    return p, labels


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_the_fitted_temperature_undoes_a_known_one(temperature):
    rng = np.random.default_rng(0)
    p, labels = draw(rng, 20000)
    served = calibration.temper(p, 1.0 / temperature)  # over- or under-confident
    assert calibration.fit_temperature(served, labels) == pytest.approx(temperature, rel=0.05)


def test_the_label_temperature_undoes_a_known_one_and_keeps_every_decision():
    rng = np.random.default_rng(9)
    p = 1 / (1 + np.exp(-rng.normal(size=(20000, 4)) * 2))
    truth = (rng.random(p.shape) < p).astype(np.float64)
    served = calibration.temper_labels(p, 0.5)  # over-confident
    temperature = calibration.fit_temperature(served, truth)
    assert temperature == pytest.approx(2.0, rel=0.05)
    record = calibration.Calibration.fit(served, truth, SETTINGS)
    assert record.multi_label and record.temperature == temperature
    threshold = 0.7  # the thresholds move with the probabilities: the same decisions
    moved = calibration.temper_labels(threshold, temperature)
    assert ((served >= threshold) == (calibration.temper_labels(served, temperature) >= moved)
            ).mean() > 0.9999


def test_tempering_keeps_the_order_of_the_classes():
    rng = np.random.default_rng(1)
    p, _ = draw(rng, 500)
    for t in (0.3, 1.0, 4.0):
        q = calibration.temper(p, t)
        np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-9)
        assert (q.argmax(1) == p.argmax(1)).all()
    np.testing.assert_allclose(calibration.temper(p, 1.0), p, atol=1e-9)


def test_calibrating_brings_ece_down():
    rng = np.random.default_rng(2)
    p, labels = draw(rng, 10000)
    served = calibration.temper(p, 0.5)
    record = calibration.Calibration.fit(served[:5000], labels[:5000], SETTINGS)
    before = metrics.calibration(served[5000:], labels[5000:])["ece"]
    after = metrics.calibration(calibration.temper(served[5000:], record.temperature),
                                labels[5000:])["ece"]
    assert before > 0.05 and after < 0.02


def test_the_conformal_floor_is_the_order_statistic_of_the_definition():
    true_p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    # n = 9, alpha 0.2: rank ceil(10 * 0.8) = 8 of the scores 0.1 .. 0.9 -> 0.8
    assert calibration.conformal_floor(true_p, 0.2) == pytest.approx(0.2)
    # too few texts for alpha 0.05 (ceil(10 * 0.95) = 10 > 9): every label
    assert calibration.conformal_floor(true_p, 0.05) == 0.0


@pytest.mark.parametrize("alpha", [0.1, 0.05])
def test_conformal_sets_cover_one_minus_alpha(alpha):
    """Over many draws of calibration and test texts from one source, mean coverage is
    at least 1 - alpha and below 1 - alpha + 1/(n + 1), within a binomial tolerance."""
    rng = np.random.default_rng(3)
    n, m, draws = 300, 300, 200
    covered = []
    for _ in range(draws):
        p, labels = draw(rng, n + m, classes=8, scale=1.0)
        floor = calibration.conformal_floor(p[np.arange(n), labels[:n]], alpha)
        raw = p[n:] >= np.float32(floor)  # the rule without the top label added
        covered.append(raw[np.arange(m), labels[n:]].mean())
    mean = float(np.mean(covered))
    tolerance = 4 * math.sqrt(alpha * (1 - alpha) / (draws * m)) + 4 * np.std(covered) / \
        math.sqrt(draws)
    assert 1 - alpha - tolerance <= mean <= 1 - alpha + 1 / (n + 1) + tolerance


def test_a_set_always_holds_the_top_label():
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]], np.float32)
    sets = calibration.prediction_sets(p, 0.9)
    assert sets.tolist() == [[True, False, False], [False, False, True]]
    assert calibration.prediction_sets(p, 0.25).tolist() == [[True, True, False],
                                                             [False, False, True]]


def test_the_binomial_tail_is_the_sum_of_the_pmf():
    for k, n, a in [(95, 100, 0.9), (3, 10, 0.5), (0, 5, 0.3), (59, 59, 0.95), (1, 1, 0.2)]:
        exact = sum(math.comb(n, i) * a ** i * (1 - a) ** (n - i) for i in range(k, n + 1))
        assert calibration.binomial_tail(k, n, a) == pytest.approx(exact, rel=1e-9)


def _selective_source(rng, n, a, b):
    """Confidences and correctness where a text of confidence c is right with
    probability c: the answered texts' true accuracy at threshold t is E[c | c >= t]."""
    confidence = rng.beta(a, b, size=n)
    return confidence, rng.random(n) < confidence


@pytest.mark.parametrize("a, b, target, share", [(5, 1.2, 0.9, 0.2), (20, 1, 0.95, 0.7)])
def test_abstaining_reaches_the_target_on_new_texts_with_the_stated_probability(
        a, b, target, share):
    """Over many calibration draws, the true accuracy of the answered (computed on a large
    sample) falls below the target in at most delta of them, with a binomial tolerance;
    and the rule is not vacuous: it answers a fair share of the texts on average."""
    rng = np.random.default_rng(4)
    draws = 100
    big_c, big_right = _selective_source(rng, 50_000, a, b)
    failures, answered = 0, []
    for _ in range(draws):
        rule = calibration.abstain_rule(*_selective_source(rng, 1000, a, b), target)
        kept = big_c >= rule.threshold
        answered.append(kept.mean())
        if kept.any() and big_right[kept].mean() < target:
            failures += 1
    tolerance = 3 * math.sqrt(calibration.DELTA * (1 - calibration.DELTA) / draws)
    assert failures / draws <= calibration.DELTA + tolerance
    assert np.mean(answered) > share


def test_an_unreachable_target_abstains_on_everything_and_says_so():
    rng = np.random.default_rng(5)
    confidence = rng.random(500)
    rule = calibration.abstain_rule(confidence, np.zeros(500, bool), 0.9)
    assert rule.threshold > 1.0 and rule.answered == 0.0
    assert "every text abstains" in rule.why


def test_the_chosen_threshold_passes_the_bound_on_the_calibration_texts():
    rng = np.random.default_rng(6)
    confidence, correct = _selective_source(rng, 2000, 20, 1)
    rule = calibration.abstain_rule(confidence, correct, 0.95)
    kept = confidence >= rule.threshold
    assert rule.answered == pytest.approx(kept.mean(), abs=1e-6)
    assert rule.accuracy == pytest.approx(correct[kept].mean(), abs=1e-6)
    right, n = int(correct[kept].sum()), int(kept.sum())
    assert calibration.binomial_tail(right, n, 0.95) <= calibration.DELTA


SETTINGS = dict(conformal_alpha=0.1, abstain_target_accuracy=0.0, abstain_label=None)


def test_the_record_round_trips_and_export_overrides_win(tmp_path):
    rng = np.random.default_rng(7)
    p, labels = draw(rng, 400)
    record = calibration.Calibration.fit(p, labels, SETTINGS)
    record.save(str(tmp_path))
    loaded = calibration.Calibration.load(str(tmp_path))
    assert loaded == record
    served = loaded.served()
    assert served.alpha == 0.1 and served.abstain is None and served.abstain_label is None
    other = loaded.served(conformal_alpha=0.05, abstain_target_accuracy=0.8,
                          abstain_label="其他")
    assert other.floor <= served.floor  # a smaller alpha: larger sets
    assert other.abstain is not None and other.abstain_label == "其他"
    assert calibration.Calibration.load(str(tmp_path / "none")) is None


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1])
def test_an_alpha_outside_zero_one_is_refused(alpha):
    with pytest.raises(UserError, match="--conformal_alpha"):
        calibration.conformal_floor([0.5], alpha)


def test_a_target_outside_zero_one_is_refused():
    rng = np.random.default_rng(8)
    record = calibration.Calibration.fit(*draw(rng, 50), SETTINGS)
    with pytest.raises(UserError, match="--abstain_target_accuracy"):
        record.served(abstain_target_accuracy=1.0)


def test_accuracy_coverage_curve_and_selective_scores():
    confidence = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, False, True])
    curve = metrics.accuracy_coverage(confidence, correct, points=4)
    assert [c["coverage"] for c in curve] == [0.25, 0.5, 0.75, 1.0]
    assert [c["accuracy"] for c in curve] == pytest.approx([1.0, 1.0, 2 / 3, 0.75])
    assert metrics.selective(confidence >= 0.75, correct) == dict(answered=0.5,
                                                                  answered_accuracy=1.0)
    assert metrics.selective(confidence > 1, correct)["answered_accuracy"] is None
    sets = np.array([[True, False], [True, True], [False, True]])
    assert metrics.prediction_sets(sets, np.array([1, 1, 1])) == dict(
        coverage=pytest.approx(2 / 3), mean_set_size=pytest.approx(4 / 3))
