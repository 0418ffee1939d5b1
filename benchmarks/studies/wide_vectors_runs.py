"""The served model with and without pretrained vectors in its wide path, on finished runs.

Each RUN folder given is a finished `make train DATA=corpus VECTORS=file` run
trained without the wide path's vectors (`--nowide_vectors`, or code before
them): its exported model is the `without` arm. A copy of it is trained again
with `--wide_vectors`: the recurrent model is finished, so only the wide
path is trained (its C, the vectors' weight, the temperature, the mixture
weight, the refit, all on the same val) and the model exported: the `with`
arm. Both are scored as training scores them (metrics.json's test accuracy
of the exported model).

    python benchmarks/studies/wide_vectors_runs.py --run_dirs=$TMPDIR/runs/tnews,... \\
        --work_dir=$TMPDIR/wide_vectors_runs
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run_dirs", required=True,
                        help="comma-separated RUN folders of make train with VECTORS=")
    parser.add_argument("--work_dir", required=True, help="where the copies are trained")
    parser.add_argument("--resume", action="store_true",
                        help="keep a copy in --work_dir whose wide path was already trained "
                             "with the vectors (after an interruption)")
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "studies", "results",
                                                      "wide_vectors_runs.json"))
    return parser.parse_args(argv)


def arm(model_dir):
    """What one arm's exported model scored and what its wide path chose."""
    metrics = common.read_json(os.path.join(model_dir, "metrics.json"))
    wide = metrics["wide"]
    return dict(test_accuracy=metrics["test_accuracy"], val_accuracy=metrics["val_accuracy"],
                mixture_weight=wide["weight"], vector_weight=wide.get("vector_weight"),
                wide_seconds=wide["seconds"])


def describe(run_dir):
    """(corpus name, seed, vectors file) of a finished run."""
    config = common.read_json(os.path.join(run_dir, "model", "config.json"))
    manifest = common.read_json(os.path.join(run_dir, "prepared", "manifest.json"))
    corpus = os.path.basename(os.path.dirname(manifest["splits"]["train"]["source"]))
    vectors = config["train"]["pretrained_embeddings"]
    if not vectors:
        raise SystemExit(f"{run_dir} was trained without VECTORS=")
    return corpus, config["train"]["seed"], vectors


def with_vectors(run_dir, copy, seed, vectors):
    """Train the copy's wide path again with --wide_vectors; its output in copy.log."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(run_dir, copy)
    command = [os.path.join(os.path.dirname(sys.executable), "textrnn-train"), "--recipe=auto",
               f"--data_dir={copy}/prepared", f"--model_dir={copy}/model",
               f"--pretrained_embeddings={vectors}", f"--seed={seed}", "--wide_vectors"]
    with open(copy + ".log", "w", encoding="utf-8") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed; see {copy}.log")


def trained_with_vectors(copy):
    path = os.path.join(copy, "model", "metrics.json")
    return os.path.isfile(path) and "vector_weight" in common.read_json(path).get("wide", {})


def summarise(runs):
    by_corpus = {}
    for run in runs:
        by_corpus.setdefault(run["corpus"], []).append(run)
    mean = lambda rows, side: sum(r[side]["test_accuracy"] for r in rows) / len(rows)
    return {name: dict(seeds=[r["seed"] for r in rows], without=mean(rows, "without"),
                       with_vectors=mean(rows, "with_vectors"),
                       gain=mean(rows, "with_vectors") - mean(rows, "without"))
            for name, rows in by_corpus.items()}


def main(argv=None):
    args = parse_args(argv)
    runs = []
    for run_dir in args.run_dirs.split(","):
        corpus, seed, vectors = describe(run_dir)
        copy = os.path.join(args.work_dir, os.path.basename(os.path.normpath(run_dir)))
        started = time.perf_counter()
        if not (args.resume and trained_with_vectors(copy)):
            with_vectors(run_dir, copy, seed, vectors)
        runs.append(dict(corpus=corpus, seed=seed, without=arm(os.path.join(run_dir, "model")),
                         with_vectors=arm(os.path.join(copy, "model")),
                         seconds=round(time.perf_counter() - started, 1)))
        print(f"{corpus} seed {seed}: test {100 * runs[-1]['without']['test_accuracy']:.2f} "
              f"-> {100 * runs[-1]['with_vectors']['test_accuracy']:.2f} (vectors' weight "
              f"{runs[-1]['with_vectors']['vector_weight']})", flush=True)
    common.write_json(args.out, dict(
        command=common.command_line("wide_vectors_runs.py",
                                    argv if argv is not None else sys.argv[1:]),
        machine=common.machine_info(), runs=runs, corpora=summarise(runs)))


if __name__ == "__main__":
    main()
