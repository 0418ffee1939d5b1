"""Where per-label thresholds start to carry: the minimum of val positives a label needs.

For each exported multi-label SavedModel given (e.g. the seeds of
peers_multilabel.py), the served probabilities of the raw val and test files;
then, for each minimum m, per-label thresholds fitted on val for the labels
with at least m val positives (the others at the global threshold), scored on
test, beside the global threshold alone and the rule of
textrnn/training/multilabel.py (which also checks on held-out val whether the
per-label thresholds carry).

    python benchmarks/thresholds.py --saved_models=A/export,B/export \
        --data=../shared/data/cail2019_elements
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MINIMUMS = (1, 5, 10, 20, 40, 80)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saved_models", required=True, help="comma-separated SavedModels")
    parser.add_argument("--data", default=os.path.join(common.SHARED_DATA, "cail2019_elements"))
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "thresholds.json"))
    return parser.parse_args(argv)


def served(export_dir, path):
    """(probabilities, true 0/1 rows, labels) of a raw multi-label file."""
    import tensorflow as tf
    info = common.read_json(os.path.join(export_dir, "assets.extra", "textrnn.json"))
    labels, separator = info["labels"], info["label_separator"]
    index = {label: i for i, label in enumerate(labels)}
    texts, truth = [], []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            field, _, text = line.rstrip("\n").partition("\t")
            row = np.zeros(len(labels), bool)
            row[[index[l] for l in field.split(separator) if l in index]] = True
            texts.append(text)
            truth.append(row)
    signature = tf.saved_model.load(export_dir).signatures["serving_default"]
    probabilities = np.concatenate([
        signature(text=tf.constant(texts[i:i + 256]))["probabilities"].numpy()
        for i in range(0, len(texts), 256)])
    return probabilities, np.array(truth), labels


def measure(export_dir, data):
    from textrnn.training import multilabel
    paths = common.raw_paths(data)
    p_val, y_val, _ = served(export_dir, paths["val"])
    p_test, y_test, _ = served(export_dir, paths["test"])
    best = multilabel.choose_global(p_val, y_val)
    base = np.full(y_val.shape[1], best)

    def on_test(thresholds, top=False):
        s = multilabel.scores(y_test, multilabel.decide(p_test, thresholds, top))
        return dict(micro_f1=round(s["micro_f1"], 4), macro_f1=round(s["macro_f1"], 4))

    row = dict(export=export_dir, global_threshold=best, global_only=on_test(base))
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
    rows = [measure(e, args.data) for e in args.saved_models.split(",")]
    keys = ["global_only", *[f"per_label_min_{m}" for m in MINIMUMS], "rule"]
    mean = {k: {metric: round(float(np.mean([r[k][metric] for r in rows])), 4)
                for metric in ("micro_f1", "macro_f1")} for k in keys}
    report = dict(machine=common.machine_info(), data=os.path.abspath(args.data),
                  command="python benchmarks/thresholds.py " + " ".join(
                      argv if argv is not None else sys.argv[1:]),
                  mean_test=mean, runs=rows)
    common.write_json(args.out, report)
    for k in keys:
        print(f"{k:22s} test micro-F1 {mean[k]['micro_f1']:.4f}  macro-F1 "
              f"{mean[k]['macro_f1']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
