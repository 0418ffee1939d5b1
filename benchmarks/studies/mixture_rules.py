"""Rules for the wide & deep mixture's weight, compared on runs peers.py recorded.

Each textrnn run of peers.json keeps the mixture's val accuracy and log-loss
and the exported model's test accuracy at every weight of the grid
(wide.json's `curve`). A rule picks a weight from val alone; its test
accuracy is the curve's at that weight, which is exactly the exported model
with that weight (the wide path's refit does not depend on it). Rules:

- accuracy: the best val accuracy, ties to the lower log-loss (textrnn's
  rule until this comparison);
- log_loss: the lowest val log-loss;
- smoothed: the best val accuracy averaged over the weight and its two
  neighbours on each side (a window of 0.2), ties to the lower log-loss;
- one_se: the middle of the weights whose val accuracy is within one standard
  error (sqrt(p (1 - p) / n) over the n val texts) of the best.

    python benchmarks/studies/mixture_rules.py [--peers benchmarks/results/peers.json]
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402

SYSTEMS = ("textrnn", "textrnn_vectors")


def _best(score, log_loss):
    """Index of the highest score, ties to the lower log-loss."""
    return max(range(len(score)), key=lambda i: (round(score[i], 9), -log_loss[i]))


def accuracy(curve):
    return _best(curve["val_accuracy"], curve["val_log_loss"])


def log_loss(curve):
    return int(np.argmin(curve["val_log_loss"]))


def smoothed(curve, half=2):
    acc = np.asarray(curve["val_accuracy"])
    window = [acc[max(0, i - half):i + half + 1].mean() for i in range(len(acc))]
    return _best(window, curve["val_log_loss"])


def one_se(curve, val_texts):
    acc = np.asarray(curve["val_accuracy"])
    best = acc.max()
    near = np.flatnonzero(acc >= best - np.sqrt(best * (1 - best) / val_texts))
    return int(near[len(near) // 2])


RULES = {"accuracy": accuracy, "log_loss": log_loss, "smoothed": smoothed, "one_se": one_se}


def val_texts(name):
    """Lines of a shared corpus's val split (what one_se's standard error needs)."""
    with open(common.raw_paths(os.path.join(common.SHARED_DATA, name))["val"], "rb") as f:
        return sum(1 for _ in f)


def compare(peers, sizes=None):
    """{corpus: {system: {rule: mean test accuracy, rule_weights: [...]}}}; `sizes`:
    corpus -> val texts (default: counted in the shared data)."""
    out = {}
    for name, corpus in peers["corpora"].items():
        n = (sizes or {}).get(name) or val_texts(name)
        for system in SYSTEMS:
            runs = [r for r in corpus["systems"].get(system, {}).get("runs", [])
                    if r.get("weight_curve")]
            if not runs:
                continue
            row = out.setdefault(name, {}).setdefault(system, {})
            for rule, pick in RULES.items():
                picks = [pick(r["weight_curve"], n) if rule == "one_se" else
                         pick(r["weight_curve"]) for r in runs]
                row[rule] = round(float(np.mean([r["weight_curve"]["test_accuracy"][i]
                                                 for r, i in zip(runs, picks)])), 4)
                row[f"{rule}_weights"] = [runs[0]["weight_curve"]["weights"][i] for i in picks]
            row["seeds"] = [r["seed"] for r in runs]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                        "peers.json"))
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "studies", "results",
                                                      "mixture_rules.json"))
    args = parser.parse_args(argv)
    result = dict(command=common.command_line(__file__, argv),
                  peers_commit=common.read_json(args.peers)["machine"]["textrnn_commit"],
                  corpora=compare(common.read_json(args.peers)))
    common.write_json(args.out, result)
    print(json.dumps(result["corpora"], indent=1))


if __name__ == "__main__":
    main()
