"""One temperature for every label of the multi-label wide path, or one a label.

The wide path's SVM scores become probabilities by a sigmoid at a temperature fitted
on val by log-loss (textrnn/training/wide/linear.calibrate): one for all labels. This measures
the alternative, each label's own temperature (for the labels with at least m val
positives; the others keep the shared one), by what the served model would do with it:
the mixture weight chosen on val, the thresholds chosen on val by textrnn's rule, and
test micro-F1, macro-F1 and exact match, beside the wide path's own val and test
log-loss.

For each run given (peers_multilabel.py's `make train` runs: RUN/prepared and
RUN/model), the wide classifier is solved again on train at the C the run chose, with
the run's seed and the run's n-grams: the saved one was trained again on train + val
and so has seen val.

    python benchmarks/studies/calibration.py --runs=runs/peers_multilabel
    python benchmarks/studies/calibration.py --run_dirs=A,B
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
from textrnn.training import metrics as scoring  # noqa: E402

MINIMUMS = (1, 5, 20, 50)
METRICS = ("val_micro_f1", "wide_val_log_loss", "wide_test_log_loss", "test_micro_f1",
           "test_macro_f1", "test_exact_match")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_run_flags(parser)
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "studies", "results",
                                                      "calibration.json"),
                        help="where the JSON report goes")
    return parser.parse_args(argv)


def per_label_temperatures(scores, labels, shared, minimum):
    """Each label's temperature by its own val log-loss, for the labels with at least
    `minimum` val positives; `shared` for the others."""
    from textrnn.training.wide import linear
    temperatures = np.full(labels.shape[1], shared)
    for j in np.flatnonzero(labels.sum(0) >= minimum):
        losses = [linear.log_loss(linear.sigmoid(scores[:, j:j + 1], t), labels[:, j:j + 1])
                  for t in linear.TEMPERATURES]
        temperatures[j] = linear.TEMPERATURES[int(np.argmin(losses))]
    return temperatures


def wide_scores(run_dir):
    """{split: (SVM scores, labels: 0/1 rows, or class ids)} of val and test of the wide
    classifier solved again on train at the run's C and seed, as training solved it;
    and its temperature (one for all labels)."""
    from textrnn.features import data
    from textrnn.training import artifacts
    from textrnn.training.wide import linear, ngrams
    model_dir, prepared = os.path.join(run_dir, "model"), os.path.join(run_dir, "prepared")
    info = artifacts.read_json(os.path.join(model_dir, "wide", "wide.json"))
    seed = artifacts.read_json(os.path.join(model_dir, "config.json"))["train"]["seed"]
    featurizer, encoder = ngrams.load(os.path.join(model_dir, "wide")), \
        artifacts.label_encoder(model_dir)
    cfg = linear.WideConfig(seed=seed)
    train = linear.training_batches(data.lines(os.path.join(prepared, "train.txt")),
                                    featurizer, encoder, info["train_texts"], "train", cfg)
    # the orders training gave this C, so the model is the one training solved
    orders = linear.grid_orders(len(train), cfg.epochs_for(info["train_texts"]),
                                cfg)[cfg.c_grid.index(info["c"])]
    model, _ = linear.solve(info["c"], train, orders, featurizer.num_features,
                             encoder.num_classes, info["train_texts"], cfg)
    scores = {s: linear.predict_scores(model, linear.batches(
        data.lines(os.path.join(prepared, f"{s}.txt")), featurizer, encoder, 1024))
        for s in ("val", "test")}
    return scores, linear.calibrate(model, *scores["val"])


def served(recurrent, wide, truth):
    """The figures of the model export would serve from both paths' probabilities."""
    from textrnn.training import multilabel
    from textrnn.training.wide import mixture
    weight, val_micro, _ = mixture.choose_weight(recurrent["val"], wide["val"], truth["val"])
    mixed = {s: (1 - weight) * recurrent[s] + weight * wide[s] for s in truth}
    chosen = multilabel.choose_thresholds(mixed["val"], truth["val"])
    test = scoring.label_sets(truth["test"], multilabel.decide(
        mixed["test"], chosen.per_label, chosen.top_label))
    return dict(weight=weight, val_micro_f1=val_micro, test_micro_f1=test["micro_f1"],
                test_macro_f1=test["macro_f1"], test_exact_match=test["exact_match"])


def measure(run_dir):
    from textrnn.training import predictions
    from textrnn.training.wide import linear
    prepared = os.path.join(run_dir, "prepared")
    recurrent = dict(zip(("val", "test"), (p for p, _ in predictions.probabilities(
        os.path.join(run_dir, "model"), [os.path.join(prepared, f"{s}.txt")
                                         for s in ("val", "test")]))))
    scores, shared = wide_scores(run_dir)
    truth = {s: labels for s, (_, labels) in scores.items()}
    row = dict(run=os.path.basename(run_dir), shared_temperature=shared)
    variants = [("shared", shared)] + [
        (f"per_label_min_{m}", per_label_temperatures(*scores["val"], shared, m))
        for m in MINIMUMS]
    for name, temperatures in variants:
        wide = {s: linear.sigmoid(x, np.asarray(temperatures)) for s, (x, _) in scores.items()}
        row[name] = dict(served(recurrent, wide, truth),
                         wide_val_log_loss=linear.log_loss(wide["val"], truth["val"]),
                         wide_test_log_loss=linear.log_loss(wide["test"], truth["test"]))
        print(f"{row['run']} {name}: " + json.dumps(
            {k: round(v, 4) for k, v in row[name].items()}), file=sys.stderr, flush=True)
    return row


def main(argv=None):
    args = parse_args(argv)
    rows = [measure(run) for run in common.runs_given(args)]
    keys = ["shared", *[f"per_label_min_{m}" for m in MINIMUMS]]
    mean = common.mean_of_runs(rows, keys, METRICS)
    report = dict(machine=common.machine_info(),
                  command=common.command_line(__file__, argv),
                  mean=mean, runs=rows)
    common.write_json(args.out, report)
    for k in keys:
        print(f"{k:18s} " + "  ".join(f"{m} {mean[k][m]:.4f}" for m in METRICS), file=sys.stderr)


if __name__ == "__main__":
    main()
