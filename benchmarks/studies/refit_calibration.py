"""Where should the served probabilities' temperature be fitted, given the wide path's refit?

textrnn chooses the wide path's settings on val and then trains it again on train +
val, so no served model is left that has not seen val. Two ways to calibrate it:

- before: fit the temperature on val's probabilities from the model trained on train
  alone (the one that made val's choices), then apply it to the refit model;
- slice: refit on train + half of val, and fit the temperature on the other half with
  that model (what the served model would then be); mean of three random halves.

The wide path's stand-in here is the peers' TF-IDF of character 1-3-grams and a
LinearSVC (C=0.3), scores turned into probabilities by a softmax; test ECE (15 bins)
of each is reported, beside the best any one temperature fitted on test itself could
do (a bound, not a method).

    python benchmarks/studies/refit_calibration.py
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402
import peers  # noqa: E402

C = 0.3
SCALE = 5.0  # decision values to logits: a start for the temperature, which is fitted
SPLITS = (1, 2, 3)


def softmax(scores):
    if scores.ndim == 1:  # two classes: one decision value
        scores = np.stack([-scores / 2, scores / 2], 1)
    z = scores * SCALE
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def study(corpus):
    import scipy.sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    from textrnn.training import calibration, metrics
    splits = {s: peers.read_split(p) for s, p in
              common.raw_paths(os.path.join(common.SHARED_DATA, corpus)).items()}
    names = sorted(set(splits["train"][1]))
    ids = {s: np.array([names.index(label) for label in splits[s][1]]) for s in splits}
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    x = {"train": vectorizer.fit_transform(splits["train"][0])}
    x.update({s: vectorizer.transform(splits[s][0]) for s in ("val", "test")})

    def fit(rows):
        features = scipy.sparse.vstack([x["train"], x["val"][rows]])
        return LinearSVC(C=C).fit(features, np.concatenate([ids["train"], ids["val"][rows]]))

    ece = lambda p: round(metrics.calibration(p, ids["test"])["ece"], 4)
    alone = LinearSVC(C=C).fit(x["train"], ids["train"])
    before = calibration.fit_temperature(softmax(alone.decision_function(x["val"])), ids["val"])
    refit = softmax(fit(np.arange(len(ids["val"]))).decision_function(x["test"]))
    sliced = []
    for seed in SPLITS:
        order = np.random.default_rng(seed).permutation(len(ids["val"]))
        half, other = order[: len(order) // 2], order[len(order) // 2:]
        p = softmax(fit(half).decision_function(x["val"][other]))
        sliced.append(ece(calibration.temper(refit, calibration.fit_temperature(
            p, ids["val"][other]))))
    best = calibration.fit_temperature(refit, ids["test"])
    return dict(test_texts=len(ids["test"]), uncalibrated=ece(refit),
                before=ece(calibration.temper(refit, before)),
                slice=round(float(np.mean(sliced)), 4), slice_runs=sliced,
                best_temperature_on_test=ece(calibration.temper(refit, best)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(peers.CORPORA))
    parser.add_argument("--out", default=os.path.join(HERE, "results",
                                                      "refit_calibration.json"))
    args = parser.parse_args(argv)
    results = {}
    for corpus in args.corpora.split(","):
        if not common.have_raw(os.path.join(common.SHARED_DATA, corpus)):
            print(f"{corpus}: skipped (absent)", file=sys.stderr)
            continue
        results[corpus] = study(corpus)
        print(corpus, json.dumps(results[corpus]), file=sys.stderr, flush=True)
    common.write_json(args.out, dict(command=common.command_line(__file__, argv),
                                     machine=common.machine_info(), corpora=results))


if __name__ == "__main__":
    main()
