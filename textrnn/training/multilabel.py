"""Several labels a text: how sets of labels are scored, and the thresholds chosen on val.

A multi-label model gives every label its own probability; a text gets the
labels whose probability reaches their threshold. `choose_thresholds` picks
them on val by one rule, the same for every corpus:

1. one global threshold, the one with the best val micro-F1;
2. per-label thresholds for the labels with at least MIN_POSITIVES val
   positives, kept only when they beat the global one on val *held out from
   their own fit* (two-fold: each half's thresholds are scored on the other
   half, over several random halvings), since a threshold fitted to a handful
   of examples does not carry;
3. "every text gets at least its top label", kept when it raises val micro-F1.

How label sets are scored: training/metrics.py.
"""

import dataclasses

import numpy as np

from textrnn.training import artifacts
from textrnn.training.metrics import label_sets, micro_f1

# Labels with fewer val positives keep the global threshold: fitted to fewer, per-label
# thresholds lost test micro-F1 in every run measured (benchmarks/thresholds.py), and
# the held-out check below still guards the labels above it.
MIN_POSITIVES = 100
GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)
SEED, HALVINGS = 0, 5  # the random halves of val for the held-out check


@dataclasses.dataclass
class Thresholds:
    """The decision rule of a multi-label model; `per_label` has one value a label."""
    per_label: list
    global_threshold: float
    top_label: bool
    tuned_labels: int  # labels with a threshold of their own
    why: str

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**values)


def decide(probabilities, thresholds, top_label):
    """0/1 [n, labels]: each text's labels at `thresholds` (a scalar or one a label)."""
    chosen = probabilities >= np.asarray(thresholds, np.float32)
    if top_label and len(probabilities):
        chosen[np.arange(len(probabilities)), probabilities.argmax(-1)] = True
    return chosen


def choose_global(probabilities, truth):
    """The one threshold of GRID with the best micro-F1."""
    f1s = [micro_f1(truth, probabilities >= t) for t in GRID]
    return float(GRID[int(np.argmax(f1s))])


def _per_label(probabilities, truth, base, labels):
    """`base` with each label of `labels` at the threshold of its best F1."""
    thresholds = np.array(base, np.float64)
    for j in labels:
        column, target = probabilities[:, j:j + 1], truth[:, j:j + 1]
        f1s = [micro_f1(target, column >= t) for t in GRID]
        thresholds[j] = GRID[int(np.argmax(f1s))]
    return thresholds


def _held_out_f1(probabilities, truth, labels):
    """Micro-F1 of per-label thresholds fitted on one half of val and scored on the other
    (both ways, decisions pooled), against the global threshold treated alike; the mean
    over HALVINGS random halvings, so one lucky cut does not decide."""
    rng = np.random.default_rng(SEED)
    totals = {"global": 0.0, "per_label": 0.0}
    for _ in range(HALVINGS):
        half = rng.permutation(len(truth)) % 2 == 0
        pooled = {"global": [], "per_label": []}
        for fit, score in ((half, ~half), (~half, half)):
            base = np.full(truth.shape[1], choose_global(probabilities[fit], truth[fit]))
            tuned = _per_label(probabilities[fit], truth[fit], base, labels)
            pooled["global"].append(probabilities[score] >= base)
            pooled["per_label"].append(probabilities[score] >= tuned)
        order = np.concatenate([np.flatnonzero(~half), np.flatnonzero(half)])
        for name, parts in pooled.items():
            totals[name] += micro_f1(truth[order], np.concatenate(parts)) / HALVINGS
    return totals


def choose_thresholds(probabilities, truth, min_positives=MIN_POSITIVES):
    """The Thresholds of the rule above for val's probabilities and true 0/1 rows."""
    probabilities = np.asarray(probabilities, np.float32)
    truth = np.asarray(truth).astype(bool)
    best = choose_global(probabilities, truth)
    thresholds = np.full(truth.shape[1], best)
    why = [f"global threshold {best:.2f}: the best val micro-F1"]
    labels = np.flatnonzero(truth.sum(0) >= min_positives)
    tuned = 0
    if len(labels):
        held = _held_out_f1(probabilities, truth, labels)
        if held["per_label"] > held["global"]:
            thresholds = _per_label(probabilities, truth, thresholds, labels)
            tuned = len(labels)
            why.append(f"{tuned} labels with >= {min_positives} val positives get their own "
                       f"(held-out val micro-F1 {held['per_label']:.4f} vs "
                       f"{held['global']:.4f})")
        else:
            why.append(f"per-label thresholds for the {len(labels)} labels with >= "
                       f"{min_positives} val positives do not beat it on held-out val "
                       f"({held['per_label']:.4f} vs {held['global']:.4f})")
    else:
        why.append(f"no label has {min_positives} val positives to fit its own threshold")
    plain = micro_f1(truth, decide(probabilities, thresholds, False))
    top = micro_f1(truth, decide(probabilities, thresholds, True))
    why.append(("every text gets at least its top label" if top > plain else
                "texts may get no label") + f" (val micro-F1 {top:.4f} with the top label "
               f"forced, {plain:.4f} without)")
    return Thresholds(per_label=[float(t) for t in thresholds], global_threshold=best,
                      top_label=bool(top > plain), tuned_labels=tuned, why="; ".join(why))


def add_thresholds(model_dir, metrics, val, test):
    """Choose the thresholds on `val` ((probabilities, 0/1 rows) of the served model),
    write them to MODEL_DIR/thresholds.json, and score val and `test` at them: the
    metrics of the exported model."""
    from textrnn.util.console import say
    chosen = choose_thresholds(*val)
    artifacts.write_json(artifacts.path(model_dir, artifacts.THRESHOLDS_FILE), chosen.to_dict())
    say(f"thresholds: {chosen.why}")
    for split, (probabilities, targets) in (("val", val), ("test", test)):
        figures = label_sets(targets, decide(probabilities, chosen.per_label, chosen.top_label))
        for name in ("micro_f1", "macro_f1", "exact_match", "hamming_loss"):
            metrics[f"{split}_{name}"] = figures[name]
    metrics["thresholds"] = dict(global_threshold=chosen.global_threshold,
                                 tuned_labels=chosen.tuned_labels,
                                 top_label=chosen.top_label, why=chosen.why)
    metrics["note"] = ("val_*/test_* are those of the exported model at the thresholds "
                       "chosen on val; best_val_micro_f1 is the recurrent model's at "
                       "probability 0.5, what its best checkpoint was chosen by")
    return metrics
