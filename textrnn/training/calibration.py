"""Confidence a user can act on: calibrated probabilities, prediction sets, abstaining.

(Several labels a text: only the temperature, sigmoid(logit p / T) of each label's
probability; the thresholds move with it, so every decision stays the same.)

Fitted at the end of training on val's probabilities from the models that made
val's choices (the best-val recurrent checkpoint and the wide path before its
refit on train + val), then kept in MODEL_DIR/calibration.json so that export
can turn them into graph outputs for any alpha or target without retraining:

- **temperature**: one T for the served probabilities p, p' = softmax(log p / T),
  chosen by the lowest val log-loss. It changes how sure the model says it is,
  never which class comes first, so accuracy is untouched.
- **prediction sets** (split conformal, with the score 1 - p'(true class)): a
  label joins a text's set when p'(label) >= `floor`, where 1 - floor is the
  ceil((n + 1)(1 - alpha))-th smallest score of the n calibration texts; for
  texts exchangeable with them the set holds the true label with probability at
  least 1 - alpha. The top label is always in the set (never empty; that can
  only raise coverage).
- **abstaining**: the lowest confidence threshold t (confidence: the top p') at
  which the answered texts' accuracy is at least `target` with 95% confidence.
  Each threshold of a fixed grid is tested with the exact binomial tail
  (Clopper-Pearson) in a fixed sequence, downward, stopping at the first
  failure (Learn then Test; Angelopoulos et al. 2021), so the many thresholds
  tried do not weaken the 95%. The sequence starts where the calibrated
  confidences alone give the test its best chance to pass: from the top of
  the grid, one confident mistake among the first hundred texts would stop it
  before any useful coverage. The start looks at which answers were right
  only through the one temperature fitted on the same texts.

The guarantees hold for the models that scored val; the served wide path was
refit on train + val afterwards, so on the served model coverage and the
accuracy of the answered are measured on test (benchmarks/confidence.py) rather
than guaranteed.
"""

import dataclasses
import math
import os

import numpy as np

from textrnn.training import artifacts
from textrnn.training import metrics
from textrnn.util.console import say
from textrnn.util.errors import UserError

TINY = 1e-30          # log(0) guard, in numpy and in the graph alike
DELTA = 0.05          # the abstain rule holds with probability 1 - DELTA
THRESHOLDS = np.round(np.linspace(1.0, 0.0, 1001), 3)  # tested from the top down


def temper(p, temperature):
    """softmax(log p / T) of [n, classes] probabilities."""
    z = np.log(np.maximum(np.asarray(p, np.float64), TINY)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def temper_labels(p, temperature):
    """sigmoid(logit p / T) of each label's probability (several labels a text)."""
    p = np.clip(np.asarray(p, np.float64), TINY, 1.0 - 1e-12)
    return 0.5 * (1.0 + np.tanh((np.log(p) - np.log1p(-p)) / (2.0 * temperature)))


def fit_temperature(p, labels):
    """The T of the lowest log-loss of temper(p, T) on (p, labels) (temper_labels for 0/1
    label rows): golden-section search over log T in [1/50, 50] (the loss is convex in
    1/T, so it has one minimum)."""
    lo, hi = math.log(1 / 50), math.log(50)
    scale = temper_labels if np.ndim(labels) == 2 else temper
    loss = lambda x: metrics.log_loss(scale(p, math.exp(x)), labels, floor=TINY)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(60):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = loss(b)
    return round(math.exp((lo + hi) / 2), 6)


def conformal_floor(true_probability, alpha):
    """The calibrated probability a label needs to join a set at level `alpha`; 0.0 (every
    label) when there are too few calibration texts for it (n < 1/alpha - 1)."""
    check_alpha(alpha)
    scores = np.sort(1.0 - np.asarray(true_probability, np.float64))
    rank = math.ceil((len(scores) + 1) * (1.0 - alpha))
    if rank > len(scores):
        return 0.0
    return float(1.0 - scores[rank - 1])


def prediction_sets(p, floor):
    """[n, classes] bools: the labels whose probability reaches `floor`, and the top one."""
    p = np.asarray(p, np.float32)
    chosen = p >= np.float32(floor)
    chosen[np.arange(len(p)), p.argmax(-1)] = True
    return chosen


def ranked_sets(p, floor, names):
    """Each row's prediction set at `floor` as label names, most probable first."""
    member = prediction_sets(p, floor)
    return [[names[i] for i in np.argsort(-row, kind="stable") if chosen[i]]
            for row, chosen in zip(np.asarray(p), member)]


def log_factorials(n):
    """log(k!) for k = 0 .. n."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])


def binomial_tail(successes, trials, rate, log_factorial=None):
    """P(X >= successes) for X ~ Binomial(trials, rate), exactly (log space);
    `log_factorial`: log_factorials(m) for some m >= trials, when the caller has it."""
    if successes <= 0:
        return 1.0
    i = np.arange(successes, trials + 1)
    if log_factorial is None:
        log_factorial = log_factorials(trials)
    log_choose = log_factorial[trials] - log_factorial[i] - log_factorial[trials - i]
    terms = log_choose + i * math.log(rate) + (trials - i) * math.log1p(-rate)
    top = terms.max()
    return float(min(1.0, math.exp(top) * np.exp(terms - top).sum()))


@dataclasses.dataclass(frozen=True)
class AbstainRule:
    threshold: float   # answer when the confidence is at least this
    answered: float    # share of the calibration texts answered
    accuracy: float    # their accuracy (nan when none is answered)
    why: str


def abstain_rule(confidence, correct, target, delta=DELTA):
    """The lowest threshold of THRESHOLDS at which the answered texts' accuracy is at
    least `target` with probability 1 - delta (see the module's docstring)."""
    confidence, correct = np.asarray(confidence, np.float64), np.asarray(correct, bool)
    order = np.argsort(-confidence, kind="stable")
    hits = np.concatenate([[0], np.cumsum(correct[order])])
    # answered at threshold t: the texts with confidence >= t, a prefix of `order`
    counts = len(confidence) - np.searchsorted(np.sort(confidence), THRESHOLDS, side="left")
    log_factorial = log_factorials(len(confidence))
    start = _start(confidence[order], counts, target, delta, log_factorial)
    chosen = None
    for i in range(len(THRESHOLDS) if start is None else start, len(THRESHOLDS)):
        if binomial_tail(int(hits[counts[i]]), int(counts[i]), target, log_factorial) > delta:
            break
        chosen = i
    return _rule(chosen, counts, hits, len(confidence), target, delta)


def _start(ranked, counts, target, delta, log_factorial):
    """Where the sequence starts: the threshold at which the confidences themselves
    (`ranked`, most confident first) give the test its best chance to pass, with the
    number of right answers taken as normal with their mean and variance; None when no
    threshold answers enough texts to pass at all."""
    mean = np.concatenate([[0.0], np.cumsum(ranked)])
    variance = np.concatenate([[0.0], np.cumsum(ranked * (1.0 - ranked))])
    chance = {}
    for n in set(counts.tolist()) - {0}:
        needed = _fewest_right(n, target, delta, log_factorial)
        if needed <= n:
            z = (mean[n] - (needed - 0.5)) / math.sqrt(max(variance[n], 1e-12))
            chance[n] = 0.5 * math.erfc(-z / math.sqrt(2.0))
    if not chance:
        return None
    best = max(chance.values())
    return next(i for i, n in enumerate(counts) if chance.get(int(n)) == best)


def _fewest_right(n, target, delta, log_factorial):
    """The fewest right answers among n that pass the test (n + 1: none do)."""
    low, high = int(n * target), n + 1  # a pass needs more than the target's share right
    while low < high:
        middle = (low + high) // 2
        if binomial_tail(middle, n, target, log_factorial) <= delta:
            high = middle
        else:
            low = middle + 1
    return low


def _rule(chosen, counts, hits, total, target, delta):
    bound = (f"the answered val texts' accuracy is at least {target:g} with {1 - delta:.0%} "
             "confidence (exact binomial bound; thresholds tested in a fixed sequence "
             "downward)")
    if chosen is None:
        return AbstainRule(1.01, 0.0, float("nan"),
                           f"at no threshold {bound}, so every text abstains")
    n = int(counts[chosen])
    accuracy = hits[n] / n
    return AbstainRule(float(THRESHOLDS[chosen]), round(n / total, 6), round(float(accuracy), 6),
                       f"the lowest threshold at which {bound}: answers {n / total:.1%} of "
                       f"val, {accuracy:.4f} of them right")


def check_alpha(alpha):
    if not 0.0 < alpha < 1.0:
        raise UserError(f"--conformal_alpha must be between 0 and 1, got {alpha}")


def check_target(target):
    if not 0.0 <= target < 1.0:
        raise UserError(f"--abstain_target_accuracy must be in [0, 1) (0: off), got {target}")


# --- the model directory's record


@dataclasses.dataclass(frozen=True)
class Calibration:
    """What export needs to serve confidence: the temperature; for each calibration text
    its calibrated probability of the true class, its confidence (the top one) and
    whether the top class was right; and the settings training was given
    (conformal_alpha, abstain_target_accuracy, abstain_label), export's defaults."""
    temperature: float
    true_probability: tuple
    confidence: tuple
    correct: tuple
    settings: dict
    fitted_on: str = "val"
    multi_label: bool = False  # then only the temperature, of each label's probability

    @classmethod
    def fit(cls, p, labels, settings):
        """Fit on [n, classes] probabilities `p` of the served mixture and true ids (or
        0/1 label rows: several labels a text)."""
        labels = np.asarray(labels)
        temperature = fit_temperature(p, labels)
        if labels.ndim == 2:
            return cls(temperature, (), (), (), dict(settings), multi_label=True)
        q = temper(p, temperature).astype(np.float32)
        rows = np.arange(len(labels))
        return cls(temperature, tuple(np.round(q[rows, labels], 6).tolist()),
                   tuple(np.round(q.max(-1), 6).tolist()),
                   tuple(int(c) for c in q.argmax(-1) == labels), dict(settings))

    def save(self, model_dir):
        artifacts.write_json(artifacts.path(model_dir, artifacts.CALIBRATION_FILE),
                             dataclasses.asdict(self))

    @classmethod
    def load(cls, model_dir):
        """The record of model_dir, or None (multi-label models, older runs, imports)."""
        path = artifacts.path(model_dir, artifacts.CALIBRATION_FILE)
        if not os.path.isfile(path):
            return None
        record = artifacts.read_json(path)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in record.items()})

    def served(self, **overrides):
        """The SavedModel's confidence parameters: training's settings, with `overrides`
        (conformal_alpha=, abstain_target_accuracy=, abstain_label=) winning."""
        if self.multi_label:
            raise UserError("prediction sets and abstaining are for single-label models; "
                            "a multi-label model decides by its thresholds")
        given = {**self.settings, **{k: v for k, v in overrides.items() if v is not None}}
        alpha, target = given["conformal_alpha"], given["abstain_target_accuracy"]
        check_target(target)
        rule = abstain_rule(self.confidence, self.correct, target) if target else None
        return Served(self.temperature, conformal_floor(self.true_probability, alpha), alpha,
                      target, rule, given.get("abstain_label") if rule else None)


@dataclasses.dataclass(frozen=True)
class Served:
    """The parameters of the SavedModel's confidence outputs."""
    temperature: float
    floor: float
    alpha: float
    target: float = 0.0
    abstain: AbstainRule = None
    abstain_label: str = None

    def to_dict(self):
        return dict(temperature=self.temperature, conformal_alpha=self.alpha,
                    conformal_floor=self.floor, abstain_target_accuracy=self.target,
                    abstain=dataclasses.asdict(self.abstain) if self.abstain else None,
                    abstain_label=self.abstain_label)

    def lines(self):
        """The choices, one line each with its reason, as the recipe's are said."""
        lines = [f"calibration: temperature {self.temperature:g} on the served "
                 "probabilities (the lowest val log-loss)",
                 f"prediction sets at alpha {self.alpha:g}: the labels of calibrated "
                 f"probability >= {self.floor:.4f} (split conformal on val)"]
        if self.abstain:
            lines.append(f"abstain below confidence {self.abstain.threshold:g}"
                         + (f", answering {self.abstain_label!r}" if self.abstain_label else "")
                         + f": {self.abstain.why}")
        return lines

    def report(self):
        for line in self.lines():
            say(line)
