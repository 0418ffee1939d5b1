"""Mixture-weight rules on finished runs' probabilities, the recurrent path raw or
calibrated.

mixture_rules.py compares rules on the curves peers.py recorded; this one
recomputes, for each single-label `make train` run of peers.py (RUN/prepared,
RUN/model), what the choice saw and what the exported model does:

- the recurrent model's probabilities on val and test (its best checkpoint);
- the wide classifier's on val, solved again on train at the run's C exactly
  as training solved it (the saved one was trained again on train + val), at
  its temperature fitted on val;
- the saved (refit) wide classifier's on test, what the SavedModel serves.

Each of mixture_rules.py's rules then picks a weight from val, with the
recurrent probabilities as trained ("raw"; label smoothing leaves them
under-confident) or at a temperature fitted on val by log-loss
("calibrated"), and is scored by the test accuracy of that mixture.

    python benchmarks/studies/mixture_probabilities.py --run_dirs=A,B --out=mix.json
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import calibration  # noqa: E402
import common  # noqa: E402
import mixture_rules  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run_dirs", required=True,
                        help="comma-separated RUN folders of peers.py's textrnn runs")
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "studies", "results",
                                                      "mixture_probabilities.json"))
    return parser.parse_args(argv)


def tempered(p, temperature):
    """Softmax rows `p` at a temperature: softmax(temperature * log p)."""
    from textrnn.training.wide import linear
    return linear.softmax(np.log(np.maximum(p, 1e-12)), temperature)


def fit_temperature(p, labels):
    """The temperature of the grid the wide path uses with the lowest log-loss on (p, labels)."""
    from textrnn.training.wide import linear
    losses = [linear.log_loss(tempered(p, t), labels) for t in linear.TEMPERATURES]
    return float(linear.TEMPERATURES[int(np.argmin(losses))])


def curve(recurrent, wide, labels):
    """mixture_rules.py's curve from probabilities: val accuracy and log-loss, test
    accuracy, at each weight of the mixture's grid. `recurrent`, `wide`: {split: p}."""
    from textrnn.training.wide import linear, mixture
    mixed = lambda split, w: (1 - w) * recurrent[split] + w * wide[split]
    accuracy = lambda split, w: float((mixed(split, w).argmax(1) == labels[split]).mean())
    return dict(weights=mixture.WEIGHTS.tolist(),
                val_accuracy=[accuracy("val", w) for w in mixture.WEIGHTS],
                val_log_loss=[linear.log_loss(mixed("val", w), labels["val"])
                              for w in mixture.WEIGHTS],
                test_accuracy=[accuracy("test", w) for w in mixture.WEIGHTS])


def served_wide_test(run_dir):
    """The saved (refit) wide classifier's test probabilities, at its temperature."""
    from textrnn.features import data
    from textrnn.training import artifacts
    from textrnn.training.wide import linear
    model_dir = os.path.join(run_dir, "model")
    encoder = artifacts.label_encoder(model_dir)
    model, featurizer = linear.load(os.path.join(model_dir, "wide"), encoder.num_classes)
    scores, _ = linear.predict_scores(model, linear.batches(
        data.lines(os.path.join(run_dir, "prepared", "test.txt")), featurizer, encoder, 1024))
    return linear.softmax(scores, float(model.temperature.numpy()))


def measure(run_dir):
    from textrnn.training import predictions
    from textrnn.training.wide import linear
    prepared = os.path.join(run_dir, "prepared")
    (r_val, y_val), (r_test, y_test) = predictions.probabilities(
        os.path.join(run_dir, "model"), [os.path.join(prepared, f"{s}.txt")
                                         for s in ("val", "test")])
    scores, temperature = calibration.wide_scores(run_dir)
    wide = dict(val=linear.softmax(scores["val"][0], temperature), test=served_wide_test(run_dir))
    labels = dict(val=y_val, test=y_test)
    t = fit_temperature(r_val, y_val)
    row = dict(run=os.path.basename(run_dir), recurrent_temperature=t)
    for name, recurrent in (("raw", dict(val=r_val, test=r_test)),
                            ("calibrated", dict(val=tempered(r_val, t),
                                                test=tempered(r_test, t)))):
        c = curve(recurrent, wide, labels)
        picks = {rule: (pick(c, len(y_val)) if rule == "one_se" else pick(c))
                 for rule, pick in mixture_rules.RULES.items()}
        row[name] = {rule: dict(weight=c["weights"][i],
                                test_accuracy=round(c["test_accuracy"][i], 4))
                     for rule, i in picks.items()}
    print(f"{row['run']}: " + ", ".join(
        f"{name} {rule} {v['weight']:.2f} -> {v['test_accuracy']:.4f}"
        for name in ("raw", "calibrated") for rule, v in row[name].items()),
          file=sys.stderr, flush=True)
    return row


def main(argv=None):
    args = parse_args(argv)
    rows = [measure(run) for run in args.run_dirs.split(",")]
    mean = {name: {rule: round(float(np.mean([r[name][rule]["test_accuracy"] for r in rows])), 4)
                   for rule in mixture_rules.RULES} for name in ("raw", "calibrated")}
    common.write_json(args.out, dict(machine=common.machine_info(),
                                     command=common.command_line(__file__, argv),
                                     mean_test_accuracy=mean, runs=rows))


if __name__ == "__main__":
    main()
