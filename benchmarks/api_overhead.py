"""What TextClassifier costs beside the command line: the same corpus, seed and recipe.

Each run starts a fresh Python process, as a user would, and is timed from its
start to its end: the command line as `make train DATA=corpus` runs it
(textrnn-prepare --tokenizer=char, then textrnn-train --recipe=auto), the API as
a script that reads the three splits and calls
`TextClassifier(seed=...).fit(train, validation_data=val, test_data=test)` (the
test split scored at each evaluation, as the command does). Runs alternate
(command, API, API, command, ...) so a drift of the machine's speed falls on
both. Both models are then scored on the raw test text through their
SavedModels: the accuracies must be equal to the last digit.

    python benchmarks/api_overhead.py --corpus=waimai_10k --pairs=2
    python benchmarks/api_overhead.py --quick          # the demo corpus, a few steps
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

QUICK = ["--num_train_steps=20", "--nowide"]  # a smoke run: the recurrent path alone
API_SCRIPT = """
import sys
from textrnn import TextClassifier
from textrnn.text import corpus
def read(path):
    rows = list(corpus.read_labelled(path))
    return [text for _, _, text in rows], [label for _, label, _ in rows]
train, val, test, model_dir, seed, quick = sys.argv[1:7]
settings = dict(num_train_steps=20, wide=False) if quick == "1" else {}
TextClassifier(seed=int(seed), model_dir=model_dir, **settings).fit(
    *read(train), validation_data=read(val), test_data=read(test))
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="waimai_10k", help="a corpus of ../shared/data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=2, help="command/API pairs")
    parser.add_argument("--quick", action="store_true", help="the demo corpus, 20 steps, no "
                        "wide path")
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "api_overhead.json"))
    return parser.parse_args(argv)


def command_line(paths, run_dir, seed, quick):
    prepared, model_dir = os.path.join(run_dir, "prepared"), os.path.join(run_dir, "model")
    _run([sys.executable, "-m", "textrnn.prepare", f"--train={paths['train']}",
          f"--val={paths['val']}", f"--test={paths['test']}", "--tokenizer=char",
          f"--out_dir={prepared}", "--progress_every=0"], run_dir)
    _run([sys.executable, "-m", "textrnn.train", "--recipe=auto", f"--seed={seed}",
          f"--data_dir={prepared}", f"--model_dir={model_dir}", *(QUICK if quick else [])],
         run_dir)
    return model_dir


def api(paths, run_dir, seed, quick):
    model_dir = os.path.join(run_dir, "model")
    _run([sys.executable, "-c", API_SCRIPT, paths["train"], paths["val"], paths["test"],
          model_dir, str(seed), "1" if quick else "0"], run_dir)
    return model_dir


def _run(command, run_dir):
    with open(run_dir + ".log", "a", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=common.ROOT, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        raise SystemExit(f"{command[:3]} failed; see {run_dir}.log")


def test_scores(model_dir, test_file):
    """(accuracy, mean probability of the true label) of the SavedModel on test: the
    second tells two models apart even where a smoke run's accuracies coincide."""
    import tensorflow as tf
    from textrnn.text import corpus
    from textrnn.util import saved_model
    export_dir = os.path.join(model_dir, "export")
    rows = list(corpus.read_labelled(test_file))
    index = {label: i for i, label in enumerate(saved_model.read_info(export_dir)["labels"])}
    signature = tf.saved_model.load(export_dir).signatures["serving_default"]
    predicted, true_p = [], []
    for i in range(0, len(rows), 256):
        batch = rows[i:i + 256]
        out = signature(text=tf.constant([text for _, _, text in batch]))
        predicted += [label.decode() for label in out["label"].numpy()]
        true_p += [float(p[index[label]]) for p, (_, label, _) in
                   zip(out["probabilities"].numpy(), batch)]
    accuracy = float(np.mean([p == label for p, (_, label, _) in zip(predicted, rows)]))
    return accuracy, round(float(np.mean(true_p)), 6)


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        args.pairs = 1
    raw = common.DEMO_RAW if args.quick else os.path.join(common.SHARED_DATA, args.corpus)
    if not common.have_raw(raw):
        print(f"skipped: {raw} is absent", file=sys.stderr)
        return
    paths = common.raw_paths(raw)
    work = tempfile.mkdtemp(prefix="textrnn-api-overhead-")
    runs = {"command": [], "api": []}
    order = [("command", "api") if i % 2 == 0 else ("api", "command") for i in range(args.pairs)]
    for i, pair in enumerate(order):
        for kind in pair:
            run_dir = os.path.join(work, f"{kind}{i}")
            os.makedirs(run_dir)
            started = time.perf_counter()
            model_dir = (command_line if kind == "command" else api)(
                paths, run_dir, args.seed, args.quick)
            seconds = time.perf_counter() - started
            accuracy, true_p = test_scores(model_dir, paths["test"])
            runs[kind].append(dict(seconds=round(seconds, 2), test_accuracy=accuracy,
                                   test_true_probability=true_p))
            print(f"{kind} run {i + 1}: {seconds:.1f} s, test accuracy {accuracy!r}",
                  file=sys.stderr, flush=True)
    shutil.rmtree(work, ignore_errors=True)  # kept, with the logs, when a run failed
    mean = {kind: float(np.mean([r["seconds"] for r in rows])) for kind, rows in runs.items()}
    accuracies = {r["test_accuracy"] for rows in runs.values() for r in rows}
    result = dict(benchmark="TextClassifier.fit against textrnn-prepare + textrnn-train "
                            "--recipe=auto, fresh processes, alternating",
                  corpus="demo" if args.quick else args.corpus, seed=args.seed, quick=args.quick,
                  runs=runs, mean_seconds={k: round(v, 2) for k, v in mean.items()},
                  api_over_command=round(mean["api"] / mean["command"], 4),
                  same_accuracy=len(accuracies) == 1,
                  same_predictions=len({(r["test_accuracy"], r["test_true_probability"])
                                        for rows in runs.values() for r in rows}) == 1,
                  command=common.command_line(__file__, argv), machine=common.machine_info())
    common.write_json(args.out, result)
    print(f"API / command line wall time: {result['api_over_command']:.3f}; accuracies "
          f"{'equal' if result['same_accuracy'] else 'DIFFER'}: {sorted(accuracies)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
