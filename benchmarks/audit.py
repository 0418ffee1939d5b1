"""The audit measured: planted wrong labels found, planted copies found.

Label issues: for each shared corpus and seed, 10% of (a seeded sample of at most
--max_texts) train texts get another label, uniformly among the other classes
('uniform'), and, a second time, each its most confusable class ('confusable':
the class of highest out-of-fold probability after its own, from the peer's
model on the clean labels). Precision, recall and F1 of the flagged texts against
the flipped ones and the wall time, for textrnn's audit (the wide path cross-fitted
in 5 folds, then cleanlab's find_label_issues) and for the peer a user would run:
cleanlab's find_label_issues on 5-fold cross_val_predict probabilities of TF-IDF
character 1-3-grams + LogisticRegression (scikit-learn).

Recovery (--recovery=CORPORA, seed 1, uniform flips): the default recipe (textrnn.TextClassifier)
trained on the clean sample, on the noisy one, on the noisy one without the texts the
audit flagged ('cleaned'), and on the noisy one with the flagged texts given their true
labels back ('reviewed': what a person who checks the flagged list ends with), each
scored on test; the share of the noise's loss of test accuracy that each wins back.

Duplicates: test texts copied into train with their label and with another, and
near-copies (a character changed; punctuation changed): every exact copy must be
found; the near-copies' recall is reported.

    python benchmarks/audit.py                                 # all corpora, seed 1
    python benchmarks/audit.py --corpora=waimai_10k --seeds=1,2,3
    python benchmarks/audit.py --seeds=1,2,3 --recovery=waimai_10k  # and retrain the recipe
    python benchmarks/audit.py --quick                         # a minute
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import peers  # noqa: E402

FLIP_SHARE = 0.1
COPIES = 50  # of each kind (fewer when test has fewer than three times as many texts)
PUNCTUATION = "，。！？、；："


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "audit.json"))
    parser.add_argument("--corpora", default=",".join(peers.CORPORA))
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--max_texts", type=int, default=20000, help="train texts audited "
                        "(a seeded sample; the cross-fitting's cost grows with them)")
    parser.add_argument("--recovery", default="", help="corpora on which to also train "
                        "the default recipe on the clean, the noisy and the cleaned train "
                        "(seed 1, uniform flips) and score each on test (comma-separated)")
    parser.add_argument("--work_dir", default=None, help="the recovery's model folders "
                        "(default: a temporary folder)")
    parser.add_argument("--quick", action="store_true", help="waimai_10k, 300 texts, uniform "
                        "flips, character n-grams only: a smoke run")
    return parser.parse_args(argv)


def peer_probabilities(texts, labels, seed):
    """5-fold out-of-fold probabilities of TF-IDF char 1-3-grams + LogisticRegression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                          min_df=2),
                          LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return cross_val_predict(model, texts, labels, cv=folds, method="predict_proba")


def flips(labels, classes, kind, seed, confusable=None):
    """(noisy labels, flipped indices): FLIP_SHARE of the texts relabelled."""
    rng = random.Random(seed)
    chosen = rng.sample(range(len(labels)), int(FLIP_SHARE * len(labels)))
    noisy = list(labels)
    for i in chosen:
        if kind == "uniform":
            noisy[i] = rng.choice([c for c in classes if c != labels[i]])
        else:
            order = np.argsort(-confusable[i])
            noisy[i] = next(classes[j] for j in order if classes[j] != labels[i])
    return noisy, set(chosen)


def scores(flagged, flipped):
    flagged = set(flagged)
    hits = len(flagged & flipped)
    precision = hits / len(flagged) if flagged else 0.0
    recall = hits / len(flipped)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return dict(flagged=len(flagged), precision=round(precision, 4), recall=round(recall, 4),
                f1=round(f1, 4))


def textrnn_audit(texts, noisy, flipped, seed, words=True):
    """(scores and seconds, the flagged texts' indices)."""
    from textrnn.curation import label_issues
    started = time.perf_counter()
    issues = label_issues.audit_labels(texts, noisy, folds=5, seed=seed, words=words)
    seconds = round(time.perf_counter() - started, 1)
    return dict(scores(issues.index, flipped), seconds=seconds), issues.index


def recipe_accuracy(train, splits, model_dir, quick):
    """Test accuracy of the default recipe (seed 1) fitted on `train` (texts, labels), val
    choosing as make train does."""
    from textrnn import TextClassifier
    settings = dict(num_train_steps=20, wide_words=False) if quick else {}
    shutil.rmtree(model_dir, ignore_errors=True)  # fit would resume a finished run
    clf = TextClassifier(seed=1, model_dir=model_dir, **settings)
    clf.fit(*train, validation_data=splits["val"])
    return round(clf.score(*splits["test"]), 4)


def recovery(texts, labels, noisy, flagged, splits, work_dir, quick):
    """Test accuracy trained on the clean, the noisy, the cleaned (flagged texts
    dropped) and the reviewed (flagged texts given their true labels) train, and the
    share of the noise's loss the last two recover."""
    dropped = set(flagged)
    kept = [i for i in range(len(texts)) if i not in dropped]
    reviewed = [labels[i] if i in dropped else noisy[i] for i in range(len(texts))]
    trains = dict(clean=(texts, labels), noisy=(texts, noisy),
                  cleaned=([texts[i] for i in kept], [noisy[i] for i in kept]),
                  reviewed=(texts, reviewed))
    accuracy = {}
    for name, train in trains.items():
        accuracy[name] = recipe_accuracy(train, splits, os.path.join(work_dir, name), quick)
        print(f"recovery: {name} train ({len(train[0])} texts): test accuracy "
              f"{accuracy[name]:.4f}", file=sys.stderr, flush=True)
    lost = accuracy["clean"] - accuracy["noisy"]
    share = lambda name: (round((accuracy[name] - accuracy["noisy"]) / lost, 3)
                          if lost > 0 else None)
    return dict(test_accuracy=accuracy, dropped=len(dropped),
                recovered=dict(cleaned=share("cleaned"), reviewed=share("reviewed")))


def peer_audit(texts, noisy, flipped, seed):
    from cleanlab.filter import find_label_issues
    started = time.perf_counter()
    classes = sorted(set(noisy))
    p = peer_probabilities(texts, noisy, seed)
    ids = np.array([classes.index(label) for label in noisy])
    found = find_label_issues(ids, p, return_indices_ranked_by="self_confidence")
    return dict(scores(found, flipped), seconds=round(time.perf_counter() - started, 1))


def near_copy(text, rng):
    """The text with one character changed, or its punctuation changed."""
    marks = [i for i, c in enumerate(text) if c in PUNCTUATION]
    if marks and rng.random() < 0.5:
        i = rng.choice(marks)
        return text[:i] + rng.choice([p for p in PUNCTUATION if p != text[i]]) + text[i + 1:]
    i = rng.randrange(len(text))
    return text[:i] + ("的" if text[i] != "的" else "了") + text[i + 1:]


def planted_copies(train, test, classes, seed):
    """Duplicates found among train + copies of test texts: exact (same label, other
    label) and near copies."""
    from textrnn.curation import duplicates
    rng = random.Random(seed)
    texts, labels = list(train[0]), list(train[1])
    each = min(COPIES, len(test[0]) // 3)
    picked = rng.sample(range(len(test[0])), 3 * each)
    kinds = {}
    for n, i in enumerate(picked):
        text, label = test[0][i], test[1][i]
        kind = ("same label", "other label", "near")[n // each]
        if kind == "other label":
            label = rng.choice([c for c in classes if c != label])
        texts.append(text if kind != "near" else near_copy(text, rng))
        labels.append(label)
        kinds[len(texts) - 1] = (kind, i)
    all_texts = texts + list(test[0])
    started = time.perf_counter()
    groups = duplicates.find(all_texts)
    seconds = time.perf_counter() - started
    together = {}
    for g in groups:
        for m in g.members:
            together[m] = set(g.members)
    out = {}
    for kind in ("same label", "other label", "near"):
        copies = [(c, len(texts) + i) for c, (k, i) in kinds.items() if k == kind]
        found = sum(t in together.get(c, ()) for c, t in copies)
        out[kind] = dict(copies=len(copies), found=found)
    return dict(out, seconds=round(seconds, 1), texts=len(all_texts))


def sample(split, n, seed):
    texts, labels = split
    if len(texts) <= n:
        return list(texts), list(labels)
    keep = sorted(random.Random(seed).sample(range(len(texts)), n))
    return [texts[i] for i in keep], [labels[i] for i in keep]


def run_corpus(name, raw_dir, seeds, max_texts, quick=False, recovery_dir=None):
    """The corpus' audits of planted flips (and, with a `recovery_dir`, the recovery
    trainings) and planted copies."""
    splits = {s: peers.read_split(p) for s, p in common.raw_paths(raw_dir).items()}
    texts, labels = sample(splits["train"], max_texts, 1)
    classes = sorted(set(labels))
    confusable = peer_probabilities(texts, labels, 1)
    runs, out = [], {}
    for seed in seeds:
        for kind in ("uniform",) if quick else ("uniform", "confusable"):
            noisy, flipped = flips(labels, classes, kind, seed, confusable)
            ours, flagged = textrnn_audit(texts, noisy, flipped, seed, words=not quick)
            row = dict(seed=seed, kind=kind, textrnn=ours,
                       peer=peer_audit(texts, noisy, flipped, seed))
            print(f"{name} seed {seed} {kind}: textrnn {row['textrnn']}, peer {row['peer']}",
                  file=sys.stderr, flush=True)
            runs.append(row)
            if recovery_dir and seed == 1 and kind == "uniform":
                out["recovery"] = recovery(texts, labels, noisy, flagged, splits,
                                           os.path.join(recovery_dir, name), quick)
    copies = planted_copies((texts, labels), splits["test"], classes, 1)
    print(f"{name} copies: {copies}", file=sys.stderr, flush=True)
    return dict(texts=len(texts), classes=len(classes), runs=runs, copies=copies, **out)


def main(argv=None):
    args = parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    corpora = ["waimai_10k"] if args.quick else args.corpora.split(",")
    if args.quick:
        args.max_texts, seeds = 300, seeds[:1]
    if args.recovery and 1 not in seeds:
        raise SystemExit("--recovery retrains on seed 1's flips: include 1 in --seeds")
    retrained = set(filter(None, args.recovery.split(",")))
    work_dir = (args.work_dir or tempfile.mkdtemp(prefix="textrnn-audit-")) \
        if retrained else None
    report = dict(machine=common.machine_info(), seeds=seeds, max_texts=args.max_texts,
                  flip_share=FLIP_SHARE, quick=args.quick,
                  command=common.command_line(__file__, argv), corpora={})
    common.each_corpus(report, common.shared_corpora(corpora, None, False),
                       lambda name, raw_dir: run_corpus(name, raw_dir, seeds, args.max_texts,
                                                        args.quick,
                                                        work_dir if name in retrained else None),
                       args.out)


if __name__ == "__main__":
    main()
