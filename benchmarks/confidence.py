"""Confidence a user can act on, measured: calibration, prediction sets and abstaining.

For each shared corpus and seed, textrnn's default model (`TextClassifier()` fitted
on train with val, as peers.py trains it) is run on the raw test text through its
SavedModel, and compared with a calibrated peer: TF-IDF of character 1-3-grams and
LinearSVC (C chosen on val, as peers.py's), its probabilities from scikit-learn's
CalibratedClassifierCV (sigmoid, 5 folds) fitted on train. Both get split-conformal
sets and the abstain rule from their val probabilities with the same arithmetic
(textrnn.training.calibration), then are scored on test:

- ECE (15 equal-width bins; and equal-mass), Brier, log-loss of the served
  probabilities; textrnn's also before calibration (the served probabilities
  raised to the power T and renormalised, which undoes the temperature exactly);
- coverage and mean set size at alpha 0.1 (the SavedModel's own sets, checked
  against the same rule in numpy) and 0.05;
- abstaining with a target accuracy of 0.95: the threshold, the share of test
  answered and the accuracy of the answered;
- test accuracy, which calibration must leave as it was (peers.json's rows).

    python benchmarks/confidence.py                        # all corpora, seeds 1,2,3
    python benchmarks/confidence.py --corpora=waimai_10k --seeds=1 --work_dir=runs/conf
    python benchmarks/confidence.py --work_dir=runs/conf --resume   # after a stop
    python benchmarks/confidence.py --work_dir=runs/peers --rescore # peers.py's models
    python benchmarks/confidence.py --quick                # a minute: a smoke run
"""

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import peers  # noqa: E402

ALPHAS = (0.1, 0.05)
TARGET = 0.95
RESULT = "confidence_result.json"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "confidence.json"))
    parser.add_argument("--corpora", default=",".join(peers.CORPORA))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--work_dir", default=None, help="textrnn's runs (default: a "
                        "temporary folder)")
    parser.add_argument("--resume", action="store_true", help="reuse a run of --work_dir "
                        "that finished (its result file) with the same training code and CPU")
    parser.add_argument("--rescore", action="store_true", help="score every finished model "
                        "of --work_dir again with this code, whatever code trained it (the "
                        "run records its own); train only the missing ones")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of a minute on 400 lines of waimai_10k")
    return parser.parse_args(argv)


def measure(p, true_ids, floors, abstain, label_sets=None):
    """The scores of test probabilities `p` (true class ids `true_ids`): `floors` is
    {alpha: conformal floor} and `abstain` the calibration.AbstainRule, both fitted on the
    model's calibration data; `label_sets`, the SavedModel's own sets at ALPHAS[0]."""
    from textrnn.training import calibration, metrics
    correct = p.argmax(-1) == true_ids
    scores = {k: round(v, 6) for k, v in metrics.calibration(p, true_ids).items()
              if k != "reliability"}
    scores["test_accuracy"] = float(correct.mean())
    for alpha in ALPHAS:
        sets = calibration.prediction_sets(p, floors[alpha])
        scores[f"sets_{alpha:g}"] = dict(floor=round(floors[alpha], 6), **{
            k: round(v, 6) for k, v in metrics.prediction_sets(sets, true_ids).items()})
        if label_sets is not None and alpha == ALPHAS[0]:
            scores["graph_set_mismatches"] = int((label_sets != sets).any(1).sum())
    scores["abstain"] = dict(target=TARGET, threshold=abstain.threshold,
                             val_answered=abstain.answered,
                             **metrics.selective(p.max(-1) >= abstain.threshold, correct))
    return scores


def textrnn(raw_dir, names, seed, run_dir, quick, rescore=False):
    """A peers.py textrnn run (reused when it finished with the same code, or with any
    code when `rescore`), scored as `measure` says with the sets and threshold its
    SavedModel serves (fitted on the calibration record: val scored by the models that
    made val's choices, before the wide path's refit)."""
    from textrnn.serving.inference import Predictor
    from textrnn.training import calibration, metrics
    model_dir = os.path.join(run_dir, "model")
    trained = os.path.join(run_dir, peers.RESULT)
    if not (rescore and os.path.isfile(trained)) and peers.finished(run_dir, quick) is None:
        peers.textrnn(raw_dir, names, seed, run_dir, quick)
    texts, labels = peers.read_split(common.raw_paths(raw_dir)["test"])
    predictor = Predictor(os.path.join(model_dir, "export"))
    out = _served(predictor, texts)
    true_ids = np.array([predictor.labels.index(label) for label in labels])
    record = calibration.Calibration.load(model_dir)
    floors = {a: record.served(conformal_alpha=a).floor for a in ALPHAS}
    rule = record.served(abstain_target_accuracy=TARGET).abstain
    scores = measure(out["probabilities"], true_ids, floors, rule, out["label_set"])
    before = calibration.temper(out["probabilities"], 1.0 / record.temperature)  # p ** T
    scores["before"] = {k: round(v, 6) for k, v in
                        metrics.calibration(before, true_ids).items() if k != "reliability"}
    scores["temperature"] = record.temperature
    # the best any single temperature could do, fitted on test itself: how much of the
    # remaining error a temperature could remove at all (a diagnosis; nothing uses it)
    best = calibration.fit_temperature(out["probabilities"], true_ids)
    scores["ece_best_temperature"] = round(metrics.calibration(
        calibration.temper(out["probabilities"], best), true_ids)["ece"], 6)
    scores["trained_with"] = common.read_json(trained)["trained_with"]
    return scores


def _served(predictor, texts, batch_size=256):
    """serving_default's probabilities and label sets (as [n, classes] membership)."""
    index = {label: i for i, label in enumerate(predictor.labels)}
    probabilities, member = [], []
    for start in range(0, len(texts), batch_size):
        out = predictor.run([predictor.model_input(t) for t in texts[start:start + batch_size]])
        probabilities.append(out["probabilities"])
        rows = np.zeros(out["probabilities"].shape, bool)
        for row, labels in enumerate(out["label_set"]):
            rows[row, [index[label] for label in labels]] = True
        member.append(rows)
    return dict(probabilities=np.concatenate(probabilities), label_set=np.concatenate(member))


def svm_calibrated(splits, names, seed):
    """TF-IDF + LinearSVC (C chosen on val as peers.py's) calibrated by
    CalibratedClassifierCV(sigmoid, 5 folds) on train, scored as `measure` says."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    x = {"train": vectorizer.fit_transform(splits["train"][0])}
    x.update({s: vectorizer.transform(splits[s][0]) for s in ("val", "test")})
    c = max(peers.SVM_C, key=lambda c: LinearSVC(C=c, random_state=seed).fit(
        x["train"], splits["train"][1]).score(x["val"], splits["val"][1]))
    model = CalibratedClassifierCV(LinearSVC(C=c, random_state=seed), method="sigmoid", cv=5)
    model.fit(x["train"], splits["train"][1])
    order = [list(model.classes_).index(name) for name in names]
    p = {s: model.predict_proba(x[s])[:, order] for s in ("val", "test")}
    ids = {s: np.array([names.index(l) for l in splits[s][1]]) for s in ("val", "test")}
    from textrnn.training import calibration
    val_true = p["val"][np.arange(len(ids["val"])), ids["val"]]
    floors = {a: calibration.conformal_floor(val_true, a) for a in ALPHAS}
    rule = calibration.abstain_rule(p["val"].max(-1), p["val"].argmax(-1) == ids["val"], TARGET)
    return dict(measure(p["test"], ids["test"], floors, rule), chosen=dict(C=c))


def run_corpus(name, raw_dir, seeds, work_dir, quick, resume, rescore):
    splits = {s: peers.read_split(p) for s, p in common.raw_paths(raw_dir).items()}
    names = sorted(set(splits["train"][1]))
    runs = {"textrnn": [], "tfidf_svm_calibrated": []}
    for seed in seeds:
        run_dir = os.path.join(work_dir, f"{name}-textrnn-seed{seed}")
        saved = os.path.join(run_dir, RESULT)
        if resume and os.path.isfile(saved) and peers.finished(run_dir, quick):
            result = common.read_json(saved)
        else:
            result = textrnn(raw_dir, names, seed, run_dir, quick, rescore)
            common.write_json(saved, result)
        runs["textrnn"].append(dict(result, seed=seed))
        runs["tfidf_svm_calibrated"].append(dict(svm_calibrated(splits, names, seed), seed=seed))
        for system, rows in runs.items():
            r = rows[-1]
            print(f"{name} seed {seed} {system}: accuracy {r['test_accuracy']:.4f}, ECE "
                  f"{r['ece']:.4f}, coverage@0.1 {r['sets_0.1']['coverage']:.4f} (size "
                  f"{r['sets_0.1']['mean_set_size']:.2f})", file=sys.stderr, flush=True)
    return dict(test_lines=len(splits["test"][0]), classes=len(names), systems=runs)


def main(argv=None):
    args = parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    corpora = args.corpora.split(",")
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="textrnn-confidence-")
    os.makedirs(work_dir, exist_ok=True)
    if args.quick:  # two classes: the 400-line slice still has 5 train texts of each
        corpora, seeds = ["waimai_10k"], seeds[:1]
    report = dict(machine=common.machine_info(), seeds=seeds, quick=args.quick,
                  command=common.command_line(__file__, argv), corpora={})
    common.each_corpus(report, common.shared_corpora(corpora, work_dir, args.quick),
                       lambda name, raw_dir: run_corpus(name, raw_dir, seeds, work_dir,
                                                        args.quick, args.resume, args.rescore),
                       args.out)


if __name__ == "__main__":
    main()
