"""What to label next, measured: textrnn's selection against random texts (named
selection.py, not select.py, which would hide the standard library's select module).

For each corpus and seed: 500 random train texts start labelled; the rest of train
(a seeded sample of at most --pool texts) is the pool, its labels revealed as
texts are chosen. Five rounds add 500 texts each, chosen by
textrnn.curation.selection (uncertainty of the wide path's probabilities, spread
over its guesses, a share of unknown vocabulary, no near-duplicates) or at random;
each round the recipe's wide path (character 1-3-grams and jieba words, the SVM)
is trained again on what is labelled and scored on (a seeded sample of at most
--test texts of) test. The target: the mean test accuracy over rounds 2-5 above
random's by at least 0.5 points. The curves are drawn to --plot (matplotlib).

    python benchmarks/selection.py                      # thucnews_titles, waimai_10k; seeds 1-3
    python benchmarks/selection.py --quick              # one round of 100, a minute
"""

import argparse
import os
import random
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit  # noqa: E402
import common  # noqa: E402
import peers  # noqa: E402

CORPORA = ("thucnews_titles", "waimai_10k")
STRATEGIES = ("textrnn", "random")
C = 1.0  # the middle of the wide path's grid: the rounds have no val to choose it on


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "selection.json"))
    parser.add_argument("--plot", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                       "selection.svg"))
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--start", type=int, default=500)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pool", type=int, default=20000)
    parser.add_argument("--test", type=int, default=5000)
    parser.add_argument("--quick", action="store_true")
    return parser.parse_args(argv)


class Learner:
    """The wide path trained on what is labelled, in a folder of its own."""

    def __init__(self, classes, words, folder):
        from textrnn.training.wide import ngrams
        self.folder, self.rounds = folder, 0
        self.categories = os.path.join(folder, "categories.txt")
        with open(self.categories, "w", encoding="utf-8") as out:
            out.writelines(f"{c}\n" for c in classes)
        os.makedirs(os.path.join(folder, "words"))
        self.cut = ngrams.word_segmenter(os.path.join(folder, "words"))[0] if words else None

    def fit(self, texts, labels, seed):
        from textrnn.curation import label_issues
        self.rounds += 1
        return label_issues.Fitting(texts, labels, self.categories, self.cut, seed=seed,
                                    out=os.path.join(self.folder, str(self.rounds))).solve(C)


def probabilities(fitted, texts):
    from textrnn.training.wide import linear
    return linear.softmax(fitted.scores(texts).astype(np.float64), 1.0)


def unknown_shares(fitted, texts):
    import tensorflow as tf
    return np.concatenate([fitted.featurizer.unknown_share(tf.constant(texts[i:i + 1024]))
                           .numpy() for i in range(0, len(texts), 1024)])


def curve(strategy, data, classes, seed, args, learner):
    """Test accuracy after each round (the first: the random start alone)."""
    from textrnn.curation import selection
    rng = random.Random(seed)
    (texts, labels), (test_texts, test_labels) = data
    order = list(range(len(texts)))
    rng.shuffle(order)
    labelled, pool = order[:args.start], order[args.start:]
    accuracies = []
    for round_ in range(args.rounds + 1):
        fitted = learner.fit([texts[i] for i in labelled], [labels[i] for i in labelled], seed)
        guess = probabilities(fitted, test_texts).argmax(axis=1)
        accuracies.append(round(float(np.mean([classes[g] == t for g, t in
                                               zip(guess, test_labels)])), 4))
        if round_ == args.rounds:
            break
        if strategy == "random":
            picked = pool[:args.step]
        else:
            pool_texts = [texts[i] for i in pool]
            chosen = selection.choose(pool_texts, probabilities(fitted, pool_texts), classes,
                                      args.step, unknown_shares(fitted, pool_texts))
            picked = [pool[c.index] for c in chosen]
        labelled += picked
        taken = set(picked)
        pool = [i for i in pool if i not in taken]
    return accuracies


def run_corpus(name, raw_dir, seeds, args):
    splits = {s: peers.read_split(p) for s, p in common.raw_paths(raw_dir).items()}
    train = audit.sample(splits["train"], args.pool + args.start, 1)
    test = audit.sample(splits["test"], args.test, 1)
    classes = sorted(set(train[1]))
    runs = []
    with tempfile.TemporaryDirectory(prefix="textrnn-select-") as folder:
        learner = Learner(classes, not args.quick, folder)
        for seed in seeds:
            row = dict(seed=seed)
            for strategy in STRATEGIES:
                row[strategy] = curve(strategy, (train, test), classes, seed, args, learner)
            print(f"{name} seed {seed}: {row}", file=sys.stderr, flush=True)
            runs.append(row)
    later = lambda s: float(np.mean([np.mean(r[s][2:] or r[s][-1:]) for r in runs]))
    return dict(pool=len(train[0]) - args.start, test=len(test[0]), runs=runs,
                mean_rounds_2_5={s: round(later(s), 4) for s in STRATEGIES},
                margin_points=round(100 * (later("textrnn") - later("random")), 2))


def plot(report, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no picture", file=sys.stderr)
        return
    corpora = report["corpora"]
    figure, axes = plt.subplots(1, len(corpora), figsize=(5 * len(corpora), 3.6), squeeze=False)
    for axis, (name, result) in zip(axes[0], corpora.items()):
        for strategy in STRATEGIES:
            mean = np.mean([r[strategy] for r in result["runs"]], axis=0)
            sizes = [report["start"] + k * report["step"] for k in range(len(mean))]
            axis.plot(sizes, mean, marker="o", label=strategy)
        axis.set_title(name)
        axis.set_xlabel("labelled texts")
        axis.set_ylabel("test accuracy (mean of seeds)")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path)


def main(argv=None):
    args = parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    corpora = args.corpora.split(",")
    if args.quick:
        corpora, seeds = ["waimai_10k"], seeds[:1]
        args.start, args.step, args.rounds, args.pool, args.test = 100, 100, 1, 1000, 300
    report = dict(machine=common.machine_info(), seeds=seeds, start=args.start, step=args.step,
                  rounds=args.rounds, quick=args.quick,
                  command=common.command_line(__file__, argv), corpora={})
    common.each_corpus(report, common.shared_corpora(corpora, None, False),
                       lambda name, raw_dir: run_corpus(name, raw_dir, seeds, args), args.out)
    if report["corpora"] and not args.quick:
        plot(report, args.plot)


if __name__ == "__main__":
    main()
