"""Where per-label thresholds start to carry: the minimum of val positives a label needs.

For each multi-label run given (peers_multilabel.py's `make train` runs: RUN/
prepared and RUN/model), the recurrent model's probabilities on the prepared
val and test splits -- the recurrent model's, not the served mixture's, whose
wide path was trained again on train + val and so has seen val; then, for each
minimum m, per-label thresholds fitted on val for the labels with at least m
val positives (the others at the global threshold), scored on test, beside the
global threshold alone and the rule of textrnn/training/multilabel.py (which
also checks on held-out val whether per-label thresholds carry).

    python benchmarks/thresholds.py --runs=runs/peers_multilabel   # peers_multilabel's runs
    python benchmarks/thresholds.py --run_dirs=A,B
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from textrnn.training import metrics as scoring  # noqa: E402

MINIMUMS = (1, 5, 10, 20, 40, 80, 120, 160)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_run_flags(parser)
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "thresholds.json"))
    return parser.parse_args(argv)


def measure(run_dir):
    from textrnn.training import multilabel, predictions
    splits = [os.path.join(run_dir, "prepared", f"{s}.txt") for s in ("val", "test")]
    (p_val, y_val), (p_test, y_test) = predictions.probabilities(
        os.path.join(run_dir, "model"), splits)
    y_val, y_test = y_val.astype(bool), y_test.astype(bool)
    best = multilabel.choose_global(p_val, y_val)
    base = np.full(y_val.shape[1], best)

    def on_test(thresholds, top=False):
        s = scoring.label_sets(y_test, multilabel.decide(p_test, thresholds, top))
        return dict(micro_f1=round(s["micro_f1"], 4), macro_f1=round(s["macro_f1"], 4))

    row = dict(run=run_dir, global_threshold=best, global_only=on_test(base))
    positives = y_val.sum(0)
    for m in MINIMUMS:
        labels = np.flatnonzero(positives >= m)
        tuned = multilabel._per_label(p_val, y_val, base, labels)
        row[f"per_label_min_{m}"] = dict(labels=int(len(labels)), **on_test(tuned))
    chosen = multilabel.choose_thresholds(p_val, y_val)
    row["rule"] = dict(tuned_labels=chosen.tuned_labels, top_label=chosen.top_label,
                       **on_test(chosen.per_label, chosen.top_label))
    return row


def main(argv=None):
    args = parse_args(argv)
    rows = [measure(run) for run in common.runs_given(args)]
    keys = ["global_only", *[f"per_label_min_{m}" for m in MINIMUMS], "rule"]
    mean = common.mean_of_runs(rows, keys, ("micro_f1", "macro_f1"))
    report = dict(machine=common.machine_info(),
                  command=common.command_line(__file__, argv),
                  mean_test=mean, runs=rows)
    common.write_json(args.out, report)
    for k in keys:
        print(f"{k:22s} test micro-F1 {mean[k]['micro_f1']:.4f}  macro-F1 "
              f"{mean[k]['macro_f1']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
