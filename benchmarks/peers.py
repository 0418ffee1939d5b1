"""textrnn's default recipe against the simple baselines, on every shared corpus.

For each corpus of ../shared/data (thucnews_titles, cnews, waimai_10k, tnews)
and each seed, three systems learn from train, choose their settings on val
(dev) and are scored once on test:

- textrnn: `TextClassifier()` fitted on train with val, which trains exactly
  what `make train DATA=corpus` trains (characters, --recipe=auto: the
  recurrent model and the wide n-gram path), scored through the exported
  SavedModel on the raw test text;
- textrnn_vectors: the same with `VECTORS=` the shared pretrained character
  vectors (vectors/tencent_char_200d.vec.gz), its recurrent member alone
  reported beside it;
- tfidf_svm: scikit-learn's TF-IDF of character 1-3-grams (sublinear TF) and
  LinearSVC, C chosen on val from 0.1-10;
- tfidf_svm_refit: the same, then LinearSVC trained again on train + val at
  that C (TF-IDF still train's), as textrnn's wide path is: a reference that
  shows how much of textrnn's margin the refit alone explains;
- fasttext: fastText on characters with word bigrams (character pairs),
  epochs and learning rate chosen on val.

Times are wall-clock seconds of each system's whole training (textrnn's
includes prepare and export), run one after the other on the same machine;
compare them as ratios. Needs the [bench] extra (scikit-learn,
fasttext-wheel).

    python benchmarks/peers.py                      # all corpora, seeds 1,2,3
    python benchmarks/peers.py --corpora=tnews --seeds=1
    python benchmarks/peers.py --work_dir=runs --resume   # after an interruption
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from accuracy import scores  # noqa: E402

CORPORA = ("thucnews_titles", "cnews", "waimai_10k", "tnews")
SVM_C = (0.1, 0.3, 1.0, 3.0, 10.0)
FASTTEXT_GRID = [(epochs, lr) for epochs in (5, 10, 25) for lr in (0.1, 0.5, 1.0)]
QUICK_LINES = dict(train=400, val=100, test=100)
VECTORS = os.path.join(common.SHARED_DATA, "vectors", "tencent_char_200d.vec.gz")
RESULT = "peers_result.json"  # a finished textrnn run's scores, in its run folder


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "peers.json"),
                        help="results JSON written (and read by --update)")
    parser.add_argument("--corpora", default=",".join(CORPORA),
                        help="comma-separated subset of " + ", ".join(CORPORA))
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--systems", default="textrnn,textrnn_vectors,tfidf_svm,"
                        "tfidf_svm_refit,fasttext",
                        help="comma-separated systems to measure")
    parser.add_argument("--work_dir", default=None, help="runs of make train (default: a "
                        "temporary folder)")
    parser.add_argument("--quick", action="store_true",
                        help="seconds-long smoke run on 400 lines of one corpus (CI)")
    parser.add_argument("--resume", action="store_true",
                        help="take a textrnn run in --work_dir that already finished (its "
                             f"{RESULT}) when the same training code made it on the same "
                             "kind of CPU, instead of training it again")
    parser.add_argument("--update", action="store_true",
                        help="keep the other systems' results already in --out and replace "
                             "only those of --systems (e.g. textrnn after a change to it); "
                             "each system records the command and commit that measured it")
    return parser.parse_args(argv)


def read_split(path):
    """(texts, labels) of a raw `label<TAB>text` file."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            label, _, text = line.rstrip("\n").partition("\t")
            labels.append(label)
            texts.append(text)
    return texts, labels


def score(labels, predicted, names):
    index = {name: i for i, name in enumerate(names)}
    true = np.array([index[label] for label in labels])
    pred = np.array([index.get(label, -1) for label in predicted])
    result = scores(true, pred, len(names))
    return dict(test_accuracy=result["accuracy"], macro_f1=result["macro_f1"])


def tfidf_svm(splits, names, seed, refit=False):
    import scipy.sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    x_train = vectorizer.fit_transform(splits["train"][0])
    x_val = vectorizer.transform(splits["val"][0])
    fitted = [(LinearSVC(C=c, random_state=seed).fit(x_train, splits["train"][1]), c)
              for c in SVM_C]
    model, c = max(fitted, key=lambda mc: mc[0].score(x_val, splits["val"][1]))
    if refit:
        model = LinearSVC(C=c, random_state=seed).fit(
            scipy.sparse.vstack([x_train, x_val]), splits["train"][1] + splits["val"][1])
    seconds = time.perf_counter() - started
    predicted = model.predict(vectorizer.transform(splits["test"][0]))
    return dict(score(splits["test"][1], predicted, names), train_seconds=round(seconds, 2),
                chosen=dict(C=c))


def _fasttext_line(text):
    return " ".join(ch for ch in text if not ch.isspace())


def fasttext(splits, names, seed, work_dir):
    import fasttext as ft
    started = time.perf_counter()
    train_file = os.path.join(work_dir, "fasttext_train.txt")
    with open(train_file, "w", encoding="utf-8") as out:
        for text, label in zip(*splits["train"]):
            out.write(f"__label__{label} {_fasttext_line(text)}\n")
    ft.FastText.eprint = lambda *args, **kwargs: None  # its load warning, not ours

    def predict(model, texts):
        # a list goes through multilinePredict, which avoids fastText's numpy-2 copy error
        return [labels[0][len("__label__"):] if labels else ""
                for labels in model.predict([_fasttext_line(t) for t in texts])[0]]

    best = None
    for epochs, lr in FASTTEXT_GRID:
        model = ft.train_supervised(train_file, epoch=epochs, lr=lr, wordNgrams=2, dim=100,
                                    minCount=1, seed=seed, thread=2, verbose=0)
        accuracy = np.mean(np.array(predict(model, splits["val"][0])) == np.array(splits["val"][1]))
        if best is None or accuracy > best[0]:
            best = (accuracy, model, dict(epoch=epochs, lr=lr))
    seconds = time.perf_counter() - started
    return dict(score(splits["test"][1], predict(best[1], splits["test"][0]), names),
                train_seconds=round(seconds, 2), chosen=best[2])


def textrnn(raw_dir, names, seed, run_dir, quick, vectors=None):
    """textrnn.TextClassifier with this seed (and vectors), fitted as `make train
    DATA=raw_dir` trains (the default recipe, val to choose on, test scored at each
    evaluation), scored through its SavedModel on the raw test text."""
    from textrnn import TextClassifier
    made_with = trained_with(quick)  # before training: the code it starts from
    splits = {s: read_split(p) for s, p in common.raw_paths(raw_dir).items()}
    # quick: a few steps, and the wide path without the in-graph word cut (whose
    # dictionary alone is most of a quick run's export)
    settings = dict(num_train_steps=20, wide_words=False) if quick else {}
    model_dir = os.path.join(run_dir, "model")
    shutil.rmtree(run_dir, ignore_errors=True)  # fit would resume a finished run
    started = time.perf_counter()
    clf = TextClassifier(seed=seed, model_dir=model_dir, pretrained_embeddings=vectors,
                         **settings)
    clf.fit(*splits["train"], validation_data=splits["val"], test_data=splits["test"])
    seconds = time.perf_counter() - started
    predicted = list(clf.predict(splits["test"][0]))
    metrics = clf.metrics_
    wide = metrics.get("wide") or {}
    result = dict(score(splits["test"][1], predicted, names), train_seconds=round(seconds, 2),
                  saved_model_mb=saved_model_mb(os.path.join(model_dir, "export")),
                  chosen=dict(mixture_weight=wide.get("weight"), wide_c=wide.get("c"),
                              best_step=metrics["best_step"], steps=metrics["global_step"]),
                  # texts, epochs and the mixture's test accuracy before the wide path's refit
                  wide_refit=wide.get("refit"),
                  val_accuracy=dict(recurrent=metrics.get("recurrent", metrics)["val_accuracy"],
                                    wide=(wide.get("val_accuracy") or {}).get("wide"),
                                    exported=metrics["val_accuracy"]),
                  recurrent_test_accuracy=metrics.get("recurrent", metrics)["test_accuracy"],
                  # the mixture at every weight: val's accuracy and log-loss, test's accuracy
                  weight_curve=wide.get("curve"),
                  pretrained={k: v for k, v in (metrics.get("pretrained") or {}).items()
                              if k in ("train_coverage", "val_coverage", "added", "rows_read")},
                  trained_with=made_with)
    os.makedirs(run_dir, exist_ok=True)
    common.write_json(os.path.join(run_dir, RESULT), result)
    return result


def trained_with(quick):
    """What makes two textrnn runs of one seed the same: the training code, the CPU
    (TensorFlow's kernels differ between CPU models, and so do the trained weights) and
    whether it was a --quick run."""
    return dict(training_code=common.training_code(), cpu_model=common.cpu_model(),
                quick=quick)


def finished(run_dir, quick):
    """The scores of a finished textrnn run in run_dir that the same code trained on the
    same kind of CPU, else None."""
    path = os.path.join(run_dir, RESULT)
    if not os.path.isfile(path):
        return None
    result = common.read_json(path)
    return result if result.get("trained_with") == trained_with(quick) else None


def make_train(raw_dir, seed, run_dir, quick, *make_args, train_args=""):
    """`make train DATA=raw_dir RUN=run_dir` with this seed (and `make_args`, and
    `train_args` for textrnn-train), from a fresh run folder, its output in
    run_dir.log; returns its wall-clock seconds."""
    # quick: a few steps, and the wide path without the in-graph word cut (whose
    # dictionary alone is most of a quick run's export)
    extra = f"--seed={seed}" + (" --num_train_steps=20 --nowide_words" if quick else "")
    extra += f" {train_args}" if train_args else ""
    command = ["make", "--no-print-directory", "train", f"DATA={os.path.abspath(raw_dir)}",
               f"RUN={run_dir}", f"TRAIN_ARGS={extra}", *make_args]
    shutil.rmtree(run_dir, ignore_errors=True)  # make train would resume a finished run
    started = time.perf_counter()
    log_path = run_dir + ".log"
    with open(log_path, "w", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=common.ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "MAKEFLAGS": ""})
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed; see {log_path}")
    return time.perf_counter() - started


def saved_model_mb(path):
    """Size on disk of a SavedModel folder (graph, variables, assets), in MB."""
    return round(sum(os.path.getsize(os.path.join(folder, name))
                     for folder, _, files in os.walk(path) for name in files) / 1e6, 2)


def available(system):
    module = {"tfidf_svm": "sklearn", "tfidf_svm_refit": "sklearn",
              "fasttext": "fasttext"}.get(system)
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except ImportError:
        print(f"{system}: skipped ({module} is not installed; pip install -e '.[bench]')",
              file=sys.stderr)
        return False


def run_corpus(name, raw_dir, seeds, systems, work_dir, quick, resume=False):
    splits = {s: read_split(p) for s, p in common.raw_paths(raw_dir).items()}
    names = sorted(set(splits["train"][1]))
    runs = {system: [] for system in systems}
    for seed in seeds:
        for system in systems:
            if system in ("textrnn", "textrnn_vectors"):
                run_dir = os.path.join(work_dir, f"{name}-{system}-seed{seed}")
                result = (resume and finished(run_dir, quick)) or textrnn(
                    raw_dir, names, seed, run_dir, quick,
                    VECTORS if system == "textrnn_vectors" else None)
            elif system in ("tfidf_svm", "tfidf_svm_refit"):
                result = tfidf_svm(splits, names, seed, refit=system == "tfidf_svm_refit")
            else:
                result = fasttext(splits, names, seed, work_dir)
            runs[system].append(dict(result, seed=seed))
            print(f"{name} seed {seed} {system}: test accuracy {result['test_accuracy']:.4f}, "
                  f"macro-F1 {result['macro_f1']:.4f}, {result['train_seconds']:.0f} s",
                  file=sys.stderr, flush=True)
    return dict(train_lines=len(splits["train"][0]), test_lines=len(splits["test"][0]),
                classes=len(names), systems={s: summarise(r) for s, r in runs.items()})


def summarise(runs):
    mean = lambda key: round(float(np.mean([r[key] for r in runs])), 4)
    sizes = [r["saved_model_mb"] for r in runs if "saved_model_mb" in r]
    return dict(test_accuracy=mean("test_accuracy"), macro_f1=mean("macro_f1"),
                train_seconds=round(float(np.mean([r["train_seconds"] for r in runs])), 1),
                saved_model_mb=max(sizes) if sizes else None,
                test_accuracy_std=round(float(np.std([r["test_accuracy"] for r in runs])), 4),
                runs=runs)


def main(argv=None):
    args = parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    systems = [s for s in args.systems.split(",") if available(s)]
    corpora = args.corpora.split(",")
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="textrnn-peers-")
    os.makedirs(work_dir, exist_ok=True)
    if args.quick:
        corpora, seeds = corpora[-1:], seeds[:1]
    results = {}
    command = common.command_line(__file__, argv)
    report = dict(machine=common.machine_info(), seeds=seeds, quick=args.quick, corpora=results,
                  command=command)
    earlier = common.read_json(args.out) if args.update and os.path.isfile(args.out) else None
    if earlier:
        # An update keeps the table's command (each system records its own) and every
        # corpus it has not rerun yet, so an interrupted update loses nothing.
        report["command"] = earlier.get("command", command)
        results.update(earlier.get("corpora", {}))
        if earlier.get("notes"):
            report["notes"] = earlier["notes"]  # written by hand; reread them after the update
    ran = []
    for name, raw_dir in common.shared_corpora(corpora, work_dir, args.quick):
        results[name] = run_corpus(name, raw_dir, seeds, systems, work_dir, args.quick,
                                   args.resume)
        ran.append(name)
        for system in results[name]["systems"].values():
            system.update(command=command, textrnn_commit=report["machine"]["textrnn_commit"])
        if earlier and name in earlier["corpora"]:
            results[name]["systems"] = {**earlier["corpora"][name]["systems"],
                                        **results[name]["systems"]}
        common.write_json(args.out, report)  # after every corpus: partial results survive
    if not ran:
        print("skipped: no shared corpus found", file=sys.stderr)
        return
    report["machine"]["load_average_at_end"] = common.load_average()
    common.write_json(args.out, report)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
