"""textrnn's multi-label default against the simple baselines, on the multi-label corpus.

On ../shared/data/cail2019_elements (`label1|label2<TAB>text`) and each seed,
each system learns from train, makes its choices on dev and is scored once on
test by micro-F1, macro-F1 (over the labels with a test positive) and exact match:

- textrnn: `make train DATA=corpus MULTI_LABEL=1` exactly as a user runs it
  (characters, --recipe=auto: the recurrent model and the wide n-gram path,
  thresholds chosen on val), scored through the exported SavedModel's `labels`
  on the raw test text;
- tfidf_svm: scikit-learn's TF-IDF of character 1-3-grams (sublinear TF) and a
  one-vs-rest LinearSVC, C chosen on dev by micro-F1, a label given where its
  decision value is positive; tfidf_svm_top the same, and a text with no
  positive decision gets its top label;
- fasttext: fastText on characters with word bigrams, `-loss ova`, epochs,
  learning rate and the probability threshold chosen on dev by micro-F1.

    python benchmarks/peers_multilabel.py                  # seeds 1,2,3
    python benchmarks/peers_multilabel.py --seeds=1 --systems=tfidf_svm
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from textrnn.training import metrics as scoring  # noqa: E402
from peers import (SVM_C, FASTTEXT_GRID, available, make_train, saved_model_mb,  # noqa: E402
                   _fasttext_line)

CORPUS = "cail2019_elements"
SEPARATOR = "|"
QUICK_LINES = dict(train=400, val=100, test=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "peers_multilabel.json"))
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--systems", default="textrnn,tfidf_svm,tfidf_svm_top,fasttext")
    parser.add_argument("--work_dir", default=None, help="runs of make train (default: a "
                        "temporary folder)")
    parser.add_argument("--quick", action="store_true",
                        help="a short smoke run on the first lines of each split (CI)")
    parser.add_argument("--train_args", default="",
                        help="more textrnn-train flags for textrnn's runs, beside the auto "
                             "recipe's (e.g. --bucket_by_length, to measure a choice)")
    return parser.parse_args(argv)


def read_split(path, limit=None):
    """(texts, label lists) of a raw multi-label file."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream):
            if limit is not None and number >= limit:
                break
            field, _, text = line.rstrip("\n").partition("\t")
            labels.append([label.strip() for label in field.split(SEPARATOR)])
            texts.append(text)
    return texts, labels


def rows(label_lists, names):
    index = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(label_lists), len(names)), bool)
    for row, labels in zip(out, label_lists):
        row[[index[label] for label in labels if label in index]] = True
    return out


def score(truth, predicted):
    s = scoring.label_sets(truth, predicted)
    return dict(micro_f1=s["micro_f1"], macro_f1=s["macro_f1"], exact_match=s["exact_match"])


def tfidf_svm(splits, names, seed, top_label=False):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC
    from textrnn.training import multilabel
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    x_train = vectorizer.fit_transform(splits["train"][0])
    x_val = vectorizer.transform(splits["val"][0])
    y_train, y_val = rows(splits["train"][1], names), rows(splits["val"][1], names)

    def decide(model, x):
        values = model.decision_function(x)
        return multilabel.decide(values, 0.0, top_label) if top_label else values > 0

    fitted = [(OneVsRestClassifier(LinearSVC(C=c, random_state=seed)).fit(x_train, y_train), c)
              for c in SVM_C]
    model, c = max(fitted, key=lambda mc: scoring.micro_f1(y_val, decide(mc[0], x_val)))
    seconds = time.perf_counter() - started
    predicted = decide(model, vectorizer.transform(splits["test"][0]))
    return dict(score(rows(splits["test"][1], names), predicted),
                train_seconds=round(seconds, 2), chosen=dict(C=c))


def fasttext(splits, names, seed, work_dir):
    import fasttext as ft
    from textrnn.training import multilabel
    started = time.perf_counter()
    train_file = os.path.join(work_dir, "fasttext_multilabel_train.txt")
    with open(train_file, "w", encoding="utf-8") as out:
        for text, labels in zip(*splits["train"]):
            out.write(" ".join(f"__label__{l}" for l in labels) + f" {_fasttext_line(text)}\n")
    ft.FastText.eprint = lambda *args, **kwargs: None
    index = {name: i for i, name in enumerate(names)}

    def probabilities(model, texts):
        # one line at a time through the C++ predict: this wheel's multi-line predict gives
        # every label of a line the first label's probability under -loss ova
        out = np.zeros((len(texts), len(names)), np.float32)
        for row, text in enumerate(texts):
            for p, label in model.f.predict(_fasttext_line(text) + "\n", -1, 0.0, "strict"):
                if label[len("__label__"):] in index:
                    out[row, index[label[len("__label__"):]]] = p
        return out

    y_val = rows(splits["val"][1], names)
    best = None
    for epochs, lr in FASTTEXT_GRID:
        model = ft.train_supervised(train_file, epoch=epochs, lr=lr, wordNgrams=2, dim=100,
                                    minCount=1, seed=seed, thread=2, verbose=0, loss="ova")
        p_val = probabilities(model, splits["val"][0])
        for threshold in multilabel.GRID:
            f1 = scoring.micro_f1(y_val, p_val >= threshold)
            if best is None or f1 > best[0]:
                best = (f1, model, dict(epoch=epochs, lr=lr, threshold=float(threshold)))
    seconds = time.perf_counter() - started
    predicted = probabilities(best[1], splits["test"][0]) >= best[2]["threshold"]
    return dict(score(rows(splits["test"][1], names), predicted),
                train_seconds=round(seconds, 2), chosen=best[2])


def textrnn(raw_dir, names, seed, run_dir, quick, train_args=""):
    """`make train DATA=raw_dir MULTI_LABEL=1` with this seed; scored through the
    SavedModel's `labels` on raw text."""
    import tensorflow as tf
    seconds = make_train(raw_dir, seed, run_dir, quick, "MULTI_LABEL=1",
                         train_args=train_args)
    texts, labels = read_split(common.raw_paths(raw_dir)["test"])
    export = os.path.join(run_dir, "model", "export")
    signature = tf.saved_model.load(export).signatures["serving_default"]
    predicted = []
    for i in range(0, len(texts), 256):
        out = signature(text=tf.constant(texts[i:i + 256]))["labels"].numpy()
        predicted += [[l.decode("utf-8") for l in row if l] for row in out]
    with open(os.path.join(run_dir, "model", "metrics.json"), encoding="utf-8") as stream:
        metrics = json.load(stream)
    wide = metrics.get("wide") or {}
    recurrent = metrics.get("recurrent", metrics)
    return dict(score(rows(labels, names), rows(predicted, names)),
                train_seconds=round(seconds, 2), saved_model_mb=saved_model_mb(export),
                chosen=dict(mixture_weight=wide.get("weight"), wide_c=wide.get("c"),
                            best_step=metrics["best_step"], steps=metrics["global_step"],
                            thresholds=metrics["thresholds"]),
                val_micro_f1=dict(recurrent_at_half=recurrent.get("val_micro_f1"),
                                  exported=metrics["val_micro_f1"]),
                weight_curve=wide.get("curve"))


def slice_corpus(raw_dir, out_dir):
    """The first lines of each split, val and test without the lines that have a label
    the sliced train lacks (textrnn-prepare would refuse them)."""
    os.makedirs(out_dir, exist_ok=True)
    paths = common.raw_paths(raw_dir)
    train_labels = set()
    for split in ("train", "val", "test"):
        kept = []
        with open(paths[split], encoding="utf-8") as source:
            for line in source:
                labels = set(line.partition("\t")[0].split(SEPARATOR))
                if split == "train":
                    train_labels |= labels
                elif not labels <= train_labels:
                    continue
                kept.append(line)
                if len(kept) == QUICK_LINES[split]:
                    break
        with open(os.path.join(out_dir, f"{split}.txt"), "w", encoding="utf-8") as out:
            out.writelines(kept)
    return out_dir


def run(raw_dir, seeds, systems, work_dir, quick, train_args=""):
    splits = {s: read_split(p) for s, p in common.raw_paths(raw_dir).items()}
    names = sorted({label for labels in splits["train"][1] for label in labels})
    runs = {system: [] for system in systems}
    for seed in seeds:
        for system in systems:
            if system == "textrnn":
                result = textrnn(raw_dir, names, seed,
                                 os.path.join(work_dir, f"{CORPUS}-textrnn-seed{seed}"), quick,
                                 train_args)
            elif system in ("tfidf_svm", "tfidf_svm_top"):
                result = tfidf_svm(splits, names, seed, top_label=system == "tfidf_svm_top")
            else:
                result = fasttext(splits, names, seed, work_dir)
            runs[system].append(dict(result, seed=seed))
            print(f"{CORPUS} seed {seed} {system}: micro-F1 {result['micro_f1']:.4f}, "
                  f"macro-F1 {result['macro_f1']:.4f}, exact match "
                  f"{result['exact_match']:.4f}, {result['train_seconds']:.0f} s",
                  file=sys.stderr, flush=True)
    mean = lambda rs, key: round(float(np.mean([r[key] for r in rs])), 4)
    return dict(train_lines=len(splits["train"][0]), test_lines=len(splits["test"][0]),
                labels=len(names),
                systems={s: dict(micro_f1=mean(rs, "micro_f1"), macro_f1=mean(rs, "macro_f1"),
                                 exact_match=mean(rs, "exact_match"),
                                 train_seconds=mean(rs, "train_seconds"), runs=rs)
                         for s, rs in runs.items()})


def main(argv=None):
    args = parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    systems = [s for s in args.systems.split(",")
               if available({"tfidf_svm_top": "tfidf_svm"}.get(s, s))]
    if not systems:
        print("skipped: none of the systems can run here", file=sys.stderr)
        return
    raw_dir = os.path.join(common.SHARED_DATA, CORPUS)
    if not common.have_raw(raw_dir):
        print(f"skipped: {raw_dir} is absent", file=sys.stderr)
        return
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="textrnn-peers-multilabel-")
    os.makedirs(work_dir, exist_ok=True)
    if args.quick:
        raw_dir, seeds = slice_corpus(raw_dir, os.path.join(work_dir, "quick")), seeds[:1]
    report = dict(machine=common.machine_info(), seeds=seeds, quick=args.quick,
                  command=common.command_line(__file__, argv))
    report[CORPUS] = run(raw_dir, seeds, systems, work_dir, args.quick, args.train_args)
    report["machine"]["load_average_at_end"] = common.load_average()
    common.write_json(args.out, report)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
