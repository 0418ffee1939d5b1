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
random's by at least 0.5 points. The peer, when small-text is installed: its margin
sampling (BreakingTies: the smallest gap between the two most probable classes) over the
same learner's probabilities. The curves are drawn to --plot (matplotlib).

    python benchmarks/selection.py                      # thucnews_titles, waimai_10k; seeds 1-3
    python benchmarks/selection.py --strategies=small_text --update   # add the peer
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
STRATEGIES = ("textrnn", "random", "small_text")
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
    parser.add_argument("--strategies", default=",".join(STRATEGIES),
                        help="of " + ", ".join(STRATEGIES) + " (small_text: when installed)")
    parser.add_argument("--update", action="store_true", help="keep --out's curves of the "
                        "strategies and corpora not run again (same seeds)")
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


def margin_sampling(fitted, texts, k):
    """The k texts small-text's BreakingTies picks from the learner's probabilities."""
    from small_text.query_strategies import BreakingTies

    class Probabilities:  # what small-text asks of a classifier here
        def predict_proba(self, data):
            return probabilities(fitted, data)

    none = np.array([], np.int64)
    return BreakingTies().query(Probabilities(), texts, np.arange(len(texts)), none, none,
                                n=k)


def available(strategies):
    """The strategies whose library is installed; the others named."""
    import importlib.util
    if "small_text" in strategies and importlib.util.find_spec("small_text") is None:
        print("small_text: skipped (pip install small-text)", file=sys.stderr)
        return [s for s in strategies if s != "small_text"]
    return strategies


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
        elif strategy == "small_text":
            picked = [pool[i] for i in margin_sampling(fitted, [texts[i] for i in pool],
                                                       args.step)]
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
    earlier = {r["seed"]: r for r in (args.earlier or {}).get(name, {}).get("runs", [])}
    runs = []
    with tempfile.TemporaryDirectory(prefix="textrnn-select-") as folder:
        learner = Learner(classes, not args.quick, folder)
        for seed in seeds:
            row = dict(earlier.get(seed, {}), seed=seed)
            for strategy in args.strategies:
                row[strategy] = curve(strategy, (train, test), classes, seed, args, learner)
            print(f"{name} seed {seed}: {row}", file=sys.stderr, flush=True)
            runs.append(row)
    return dict(pool=len(train[0]) - args.start, test=len(test[0]), runs=runs,
                **summary(runs))


def summary(runs):
    """Mean test accuracy over rounds 2-5 of each strategy every run has, and textrnn's
    margin over random (and over the peer) in points."""
    later = lambda s: float(np.mean([np.mean(r[s][2:] or r[s][-1:]) for r in runs]))
    done = [s for s in STRATEGIES if all(s in r for r in runs)]
    out = dict(mean_rounds_2_5={s: round(later(s), 4) for s in done},
               margin_points=round(100 * (later("textrnn") - later("random")), 2))
    if "small_text" in done:
        out["over_small_text_points"] = round(100 * (later("textrnn") - later("small_text")), 2)
    return out


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
        for strategy in result["mean_rounds_2_5"]:
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
    args.strategies = available(args.strategies.split(","))
    earlier = (common.load_if_present(args.out) or {}) if args.update else {}
    args.earlier = earlier.get("corpora")
    command = common.command_line(__file__, argv)
    report = dict(machine=common.machine_info(), seeds=seeds, start=args.start, step=args.step,
                  rounds=args.rounds, quick=args.quick,
                  command=f"{earlier['command']}; {command}" if earlier else command,
                  corpora=dict(earlier.get("corpora", {})))
    common.each_corpus(report, common.shared_corpora(corpora, None, False),
                       lambda name, raw_dir: run_corpus(name, raw_dir, seeds, args), args.out)
    if report["corpora"] and not args.quick:
        plot(report, args.plot)


if __name__ == "__main__":
    main()
