"""Would pretrained vectors help the wide path too? TF-IDF + LinearSVC with mean vectors.

textrnn's vectors go into the recurrent member only. This measures the other
place they could go: the TF-IDF + LinearSVC peer of peers.py (character
1-3-grams, sublinear TF, C chosen on val), its features extended by the
L2-normalised mean of the text's character vectors times alpha. For each
alpha, C is chosen on val; the row `chosen` takes alpha and C together by val
accuracy. alpha 0 is peers.py's tfidf_svm row. Needs the [bench] extra.

    python benchmarks/studies/wide_vectors.py                   # four corpora
    python benchmarks/studies/wide_vectors.py --corpora=tnews --alphas=0,1
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402
from peers import CORPORA, SVM_C, VECTORS, read_split  # noqa: E402

ALPHAS = (0.0, 0.3, 0.6, 1.0)
MAX_ADDED = 50_000  # characters train lacks, as textrnn-train's --pretrained_max_tokens


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "studies", "results",
                                                      "wide_vectors.json"))
    parser.add_argument("--corpora", default=",".join(CORPORA),
                        help="comma-separated subset of " + ", ".join(CORPORA))
    parser.add_argument("--alphas", default=",".join(str(a) for a in ALPHAS),
                        help="weights of the mean-vector features against the TF-IDF row")
    parser.add_argument("--vectors", default=VECTORS, help="pretrained character vectors")
    return parser.parse_args(argv)


def mean_vectors(texts, index, matrix):
    """[len(texts), dim]: each text's mean character vector, L2-normalised (zero when
    no character has one)."""
    out = np.zeros((len(texts), matrix.shape[1]), np.float32)
    for row, text in enumerate(texts):
        ids = [index[c] for c in text if c in index]
        if ids:
            out[row] = matrix[ids].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def svm_by_alpha(splits, vectors, alphas):
    """{alpha: (val accuracy, test accuracy, C)} with C chosen on val for each alpha."""
    import scipy.sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    vectorizer.fit(splits["train"][0])
    index = {token: i for i, token in enumerate(vectors.tokens)}
    parts = {name: (vectorizer.transform(texts), mean_vectors(texts, index, vectors.matrix),
                    labels) for name, (texts, labels) in splits.items()}
    results = {}
    for alpha in alphas:
        x = {name: scipy.sparse.hstack([tfidf, scipy.sparse.csr_matrix(mean * alpha)]).tocsr()
             if alpha else tfidf for name, (tfidf, mean, _) in parts.items()}
        best = None
        for c in SVM_C:
            model = LinearSVC(C=c, random_state=1).fit(x["train"], parts["train"][2])
            val = model.score(x["val"], parts["val"][2])
            if best is None or val > best[0]:
                best = (val, model.score(x["test"], parts["test"][2]), c)
        results[alpha] = best
    return results


def run_corpus(name, alphas, vectors_path):
    from textrnn.text import vectors as vector_files
    paths = common.raw_paths(os.path.join(common.SHARED_DATA, name))
    splits = {split: read_split(path) for split, path in paths.items()}
    chars = {c for text in splits["train"][0] for c in text}
    vectors = vector_files.load(vectors_path, chars, max_added=MAX_ADDED)
    started = time.perf_counter()
    found = svm_by_alpha(splits, vectors, alphas)
    rows = [dict(alpha=a, val_accuracy=v, test_accuracy=t, C=c) for a, (v, t, c) in found.items()]
    chosen = max(rows, key=lambda row: (row["val_accuracy"], -row["alpha"]))
    return dict(rows=rows, chosen=chosen, seconds=round(time.perf_counter() - started, 1))


def main(argv=None):
    args = parse_args(argv)
    alphas = [float(a) for a in args.alphas.split(",")]
    results = {}
    for name in args.corpora.split(","):
        if not common.have_raw(os.path.join(common.SHARED_DATA, name)):
            print(f"{name}: not in {common.SHARED_DATA}, skipped")
            continue
        results[name] = run_corpus(name, alphas, args.vectors)
        for row in results[name]["rows"]:
            print(f"{name} alpha {row['alpha']:.1f}: val {100 * row['val_accuracy']:.2f} "
                  f"test {100 * row['test_accuracy']:.2f} (C {row['C']})", flush=True)
    common.write_json(args.out, dict(
        command=common.command_line("wide_vectors.py", argv if argv is not None else sys.argv[1:]),
        vectors=os.path.basename(args.vectors), machine=common.machine_info(), corpora=results))


if __name__ == "__main__":
    main()
