"""Accuracy of textrnn recipes on real Chinese news data, over several seeds.

    python benchmarks/accuracy.py --out benchmarks/results/accuracy.json [--quick]

Recipes (each trained once per seed, in a fresh model directory):

- original_defective: flags/original.flags --padding=original (the TF1
  pipeline's <UNK> padding read at step 50), THUCNews headlines, jieba.
- original_fixed: flags/original.flags (textrnn's <PAD> + mask, last valid
  step), THUCNews headlines, jieba.
- thucnews: flags/thucnews.flags, THUCNews headlines (tokenizer from the
  flags file's "# prepare: --tokenizer=..." line).
- cnews: flags/cnews.flags, the 1,000-document cnews sample, jieba.
- cnews_200_tokens: the same with --num_timesteps=200 (what the 400 tokens of
  flags/cnews.flags were chosen over, on val).
- thucnews_char, thucnews_bigram: flags/thucnews_char.flags and
  flags/thucnews_bigram.flags, the character and character-pair members of
  the headline ensemble.

Ensembles (one SavedModel per seed, written by `textrnn-export --model_dir=a,b`
from the seed's runs of each member recipe, which are trained first):

- thucnews_ensemble: thucnews + thucnews_char + thucnews_bigram (jieba words,
  characters, character pairs).
- cnews_ensemble: cnews + cnews_200_tokens (the first 400 and 200 tokens).
- thucnews_word_char, thucnews_word_bigram, thucnews_char_bigram: the
  headline ensemble less one member (what each member brings).

An ensemble is scored through its exported SavedModel on the raw val and
test files (textrnn-evaluate's code path: jieba in Python, the rest in the
graph); its training time is the sum of its members'.

For every run: accuracy and macro-F1 of the best-validation checkpoint on
test (predictions computed here from the checkpoint, every test example
scored), its validation accuracy, the step it was found at, training
seconds and examples/s (from the run's metrics.json). Per recipe: mean,
sample std, min and max over seeds. The data is prepared with textrnn-prepare
first (reused when the prepared folder already holds the same inputs).

A model directory that already holds a finished run of the very same command
is reused, not retrained (so an interrupted benchmark can be re-run); pass
--fresh to retrain everything.

--quick: a seconds-long smoke run for CI: small slices of the data (the
shipped demo corpus when ../shared/data is absent), a few steps, one seed.
Without --quick the shared data is required; the script exits with a message
(status 0) when it is absent.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

RECIPES = {
    # The defective recipe never leaves chance (its loss sits at ln 10 from the
    # first evaluation on), so it stops once 4 evaluations (4,000 steps, 12
    # epochs) pass without a better val accuracy (step 5,000 when the best is
    # at step 1,000) instead of running all 10,000 steps: compute saved.
    "original_defective": dict(corpus="headlines", flagfile="flags/original.flags",
                               extra=["--padding=original", "--early_stopping_evals=4"],
                               tokenizer="jieba"),
    "original_fixed": dict(corpus="headlines", flagfile="flags/original.flags", extra=[],
                           tokenizer="jieba"),
    "thucnews": dict(corpus="headlines", flagfile="flags/thucnews.flags", extra=[]),
    "cnews": dict(corpus="cnews", flagfile="flags/cnews.flags", extra=[]),
    # The alternative flags/cnews.flags was chosen over (on mean val accuracy).
    "cnews_200_tokens": dict(corpus="cnews", flagfile="flags/cnews.flags",
                             extra=["--num_timesteps=200"]),
    "thucnews_char": dict(corpus="headlines", flagfile="flags/thucnews_char.flags", extra=[]),
    "thucnews_bigram": dict(corpus="headlines", flagfile="flags/thucnews_bigram.flags", extra=[]),
}
ENSEMBLES = {
    "thucnews_ensemble": dict(corpus="headlines",
                              members=["thucnews", "thucnews_char", "thucnews_bigram"]),
    "cnews_ensemble": dict(corpus="cnews", members=["cnews", "cnews_200_tokens"]),
    # What each member brings: the headline ensemble less one member.
    "thucnews_word_char": dict(corpus="headlines", members=["thucnews", "thucnews_char"]),
    "thucnews_word_bigram": dict(corpus="headlines", members=["thucnews", "thucnews_bigram"]),
    "thucnews_char_bigram": dict(corpus="headlines", members=["thucnews_char", "thucnews_bigram"]),
}
RAW = dict(headlines=common.HEADLINES_RAW, cnews=common.CNEWS_RAW)
# --quick: a few steps on small slices, whatever the recipe's own schedule.
QUICK_FLAGS = ["--num_train_steps=12", "--warmup_steps=0", "--eval_every_steps=6",
               "--log_every_steps=6", "--checkpoint_every_steps=6", "--batch_size=16",
               "--early_stopping_evals=0", "--num_word_threshold=1", "--shuffle_buffer=100"]
QUICK_LINES = dict(train=400, val=100, test=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "accuracy.json"))
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run (CI)")
    parser.add_argument("--recipes", default=",".join(list(RECIPES) + list(ENSEMBLES)),
                        help="comma-separated subset of " + ", ".join(list(RECIPES) + list(ENSEMBLES)))
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated --seed values")
    parser.add_argument("--work_dir", default=None,
                        help="prepared data and model directories (default: "
                             "runs/bench/accuracy, or a temporary folder with --quick)")
    parser.add_argument("--fresh", action="store_true",
                        help="retrain even when a finished identical run exists")
    parser.add_argument("--python", default=sys.executable, help="interpreter for textrnn")
    return parser.parse_args(argv)


def flagfile_tokenizer(flagfile):
    """The tokenizer named in a flags file's '# prepare: --tokenizer=X' comment."""
    with open(flagfile, encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("#") and "--tokenizer=" in line:
                return line.split("--tokenizer=", 1)[1].split()[0].strip(".,;)")
    return "jieba"


def slice_corpus(raw_dir, out_dir):
    """QUICK_LINES lines of each split of raw_dir, evenly spaced (files may be sorted
    by label), into out_dir (for --quick)."""
    os.makedirs(out_dir, exist_ok=True)
    for split, path in common.raw_paths(raw_dir).items():
        with open(path, encoding="utf-8") as src:
            lines = src.readlines()
        step = max(1, len(lines) // QUICK_LINES[split])
        with open(os.path.join(out_dir, f"{split}.txt"), "w", encoding="utf-8") as dst:
            dst.writelines(lines[::step][:QUICK_LINES[split]])
    return out_dir


def train_command(args, recipe, data_dir, model_dir, seed):
    cmd = [args.python, "-m", "textrnn.train", f"--flagfile={recipe['flagfile']}",
           *recipe["extra"], f"--data_dir={data_dir}", f"--model_dir={model_dir}",
           f"--seed={seed}", "--export=false"]
    if args.quick:
        cmd += QUICK_FLAGS
    return cmd


def flagfile_lines(flagfile):
    """The flag lines of a flags file (comments and blank lines left out)."""
    with open(os.path.join(common.ROOT, flagfile), encoding="utf-8") as stream:
        return [line.strip() for line in stream if line.strip().startswith("--")]


def run_training(args, cmd, flagfile, model_dir, log_path):
    """Train (or reuse a finished identical run); returns wall seconds (None if reused).

    A run is reused only when both its command and the flag lines of its
    flags file are the ones it was trained with.
    """
    stamp = os.path.join(model_dir, "benchmark_command.json")
    identity = dict(command=cmd[1:], flags=flagfile_lines(flagfile))
    if not args.fresh and os.path.isfile(stamp) and os.path.isfile(
            os.path.join(model_dir, "metrics.json")):
        with open(stamp, encoding="utf-8") as stream:
            if json.load(stream) == identity:
                print(f"  reusing finished run {model_dir}", flush=True)
                return None
    shutil.rmtree(model_dir, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=common.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, cwd=common.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    if proc.returncode:
        with open(log_path, encoding="utf-8") as stream:
            tail = stream.read()[-3000:]
        raise SystemExit(f"training failed ({shlex.join(cmd)}), log {log_path}:\n{tail}")
    with open(stamp, "w", encoding="utf-8") as out:
        json.dump(identity, out, ensure_ascii=False)
    return wall


def predict(model_dir, split_file):
    """(true ids, predicted ids) of the best-validation checkpoint over every line of a file."""
    import numpy as np
    from textrnn.features import data
    from textrnn.training import artifacts
    model, config, _ = artifacts.load_model(model_dir)
    tokens = artifacts.token_encoder(model_dir, config)
    labels = artifacts.label_encoder(model_dir)
    true, pred = [], []
    for ids, y in data.eval_dataset(split_file, tokens, labels, 256):
        logits = model(ids, training=False)
        pred.append(np.argmax(np.asarray(logits), axis=-1))
        true.append(np.asarray(y))
    true, pred = np.concatenate(true), np.concatenate(pred)
    if (true < 0).any():
        raise SystemExit(f"{split_file}: labels unknown to {model_dir}")
    return true, pred


def scores(true, pred, num_classes):
    """Accuracy, macro-F1 and per-class F1 (F1 of a class with no support and no
    prediction counts as 0, as scikit-learn's default)."""
    import numpy as np
    f1 = []
    for c in range(num_classes):
        tp = float(np.sum((pred == c) & (true == c)))
        fp = float(np.sum((pred == c) & (true != c)))
        fn = float(np.sum((pred != c) & (true == c)))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return dict(accuracy=float(np.mean(true == pred)), macro_f1=float(np.mean(f1)),
                per_class_f1=[round(x, 4) for x in f1], examples=int(len(true)))


def stats(values):
    values = [float(v) for v in values if v is not None]
    if not values:
        return None
    return dict(mean=round(statistics.fmean(values), 4),
                std=round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
                min=round(min(values), 4), max=round(max(values), 4), n=len(values))


def run_recipe(args, name, recipe, data_dir, work_dir, seeds):
    from textrnn.training import artifacts
    with open(os.path.join(data_dir, "categories.txt"), encoding="utf-8") as stream:
        categories = [line.rstrip("\n") for line in stream if line.strip()]
    runs = []
    for seed in seeds:
        model_dir = os.path.join(work_dir, "runs", f"{name}_seed{seed}")
        cmd = train_command(args, recipe, data_dir, model_dir, seed)
        print(f"[{name} seed {seed}] {shlex.join(cmd[1:])}", flush=True)
        wall = run_training(args, cmd, recipe["flagfile"], model_dir,
                            os.path.join(work_dir, f"{name}_seed{seed}.log"))
        metrics = artifacts.read_json(os.path.join(model_dir, "metrics.json"))
        test = scores(*predict(model_dir, os.path.join(data_dir, "test.txt")), len(categories))
        if abs(test["accuracy"] - metrics["test_accuracy"]) > 1e-6:
            raise SystemExit(f"{model_dir}: recomputed test accuracy {test['accuracy']:.6f} "
                             f"differs from metrics.json {metrics['test_accuracy']:.6f}")
        runs.append(dict(
            seed=seed, test_accuracy=round(test["accuracy"], 4),
            test_macro_f1=round(test["macro_f1"], 4), test_per_class_f1=test["per_class_f1"],
            test_examples=test["examples"], val_accuracy=round(metrics["val_accuracy"], 4),
            best_step=metrics["best_step"], global_step=metrics["global_step"],
            train_seconds=metrics["train_seconds"],
            examples_per_second=metrics["examples_per_second"],
            wall_seconds=None if wall is None else round(wall, 1),
            last_step_test_accuracy=round((metrics.get("final_step") or {}).get(
                "test_accuracy", float("nan")), 4),
            command=shlex.join(["python", *cmd[1:]])))
        print(f"  test accuracy {runs[-1]['test_accuracy']:.4f}, macro-F1 "
              f"{runs[-1]['test_macro_f1']:.4f}, val {runs[-1]['val_accuracy']:.4f} "
              f"(step {runs[-1]['best_step']}), {runs[-1]['train_seconds']:.0f} s", flush=True)
    flag_lines = flagfile_lines(recipe["flagfile"])
    return dict(
        corpus=recipe["corpus"], tokenizer=recipe["tokenizer"], flagfile=recipe["flagfile"],
        flags=flag_lines + recipe["extra"], categories=categories, runs=runs,
        summary={key: stats([r[key] for r in runs]) for key in (
            "test_accuracy", "test_macro_f1", "val_accuracy", "train_seconds",
            "examples_per_second", "best_step")})


def run_ensemble(name, ensemble, work_dir, raw_dir, results):
    """Export each seed's members as one SavedModel and score it on the raw val and test."""
    from textrnn.serving import evaluation as evaluate
    from textrnn.training import export
    from textrnn.serving.inference import Predictor
    members = [results["recipes"][m] for m in ensemble["members"]]
    runs = []
    for seed_runs in zip(*(m["runs"] for m in members)):
        seed = seed_runs[0]["seed"]
        export_dir = export.export_models(
            [os.path.join(work_dir, "runs", f"{m}_seed{seed}") for m in ensemble["members"]],
            os.path.join(work_dir, "ensembles", f"{name}_seed{seed}"))
        predictor = Predictor(export_dir)
        raw = common.raw_paths(raw_dir)
        val, test = (evaluate.evaluate(predictor, raw[split], "raw") for split in ("val", "test"))
        runs.append(dict(
            seed=seed, test_accuracy=round(test["accuracy"], 4),
            test_macro_f1=round(test["macro_f1"], 4), test_examples=test["examples"],
            val_accuracy=round(val["accuracy"], 4),
            member_test_accuracy=[r["test_accuracy"] for r in seed_runs],
            member_val_accuracy=[r["val_accuracy"] for r in seed_runs],
            train_seconds=round(sum(r["train_seconds"] for r in seed_runs), 1),
            command="textrnn-export --model_dir=" + ",".join(
                f"runs/{m}_seed{seed}" for m in ensemble["members"]),
        ))
        print(f"[{name} seed {seed}] test accuracy {runs[-1]['test_accuracy']:.4f}, macro-F1 "
              f"{runs[-1]['test_macro_f1']:.4f}, val {runs[-1]['val_accuracy']:.4f}", flush=True)
    return dict(corpus=ensemble["corpus"], members=ensemble["members"], runs=runs,
                summary={key: stats([r[key] for r in runs]) for key in (
                    "test_accuracy", "test_macro_f1", "val_accuracy", "train_seconds")})


def selected(spec):
    """(recipe names, ensemble names) of --recipes; an ensemble brings its members."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in RECIPES and n not in ENSEMBLES]
    if unknown:
        raise SystemExit(f"unknown recipes {unknown}; choose from {list(RECIPES) + list(ENSEMBLES)}")
    ensembles = [n for n in names if n in ENSEMBLES]
    recipes = [n for n in names if n in RECIPES]
    recipes += [m for e in ensembles for m in ENSEMBLES[e]["members"] if m not in recipes]
    return recipes, ensembles


def main(argv=None):
    args = parse_args(argv)
    names, ensembles = selected(args.recipes)
    seeds = [int(s) for s in args.seeds.split(",")] if not args.quick else [1]
    have_shared = all(common.have_raw(RAW[RECIPES[n]["corpus"]]) for n in names)
    if not args.quick and not have_shared:
        print(f"skipped: the shared data ({common.SHARED_DATA}: thucnews_titles/, cnews/) is "
              "absent; this benchmark needs it (or run --quick for a smoke test on the demo "
              "corpus)")
        return 0
    work_dir = args.work_dir or (tempfile.mkdtemp(prefix="textrnn-accuracy-") if args.quick
                                 else os.path.join(common.ROOT, "runs", "bench", "accuracy"))
    os.makedirs(work_dir, exist_ok=True)
    os.chdir(common.ROOT)
    sys.path.insert(0, common.ROOT)
    started = time.time()
    results = dict(
        benchmark="accuracy", quick=args.quick, seeds=seeds, work_dir=work_dir,
        data=common.SHARED_DATA if have_shared else common.DEMO_RAW,
        machine=common.machine_info(), recipes={}, ensembles={})
    raw_dirs = {}
    for name in names:
        recipe = dict(RECIPES[name])
        recipe.setdefault("tokenizer", flagfile_tokenizer(recipe["flagfile"]))
        raw = RAW[recipe["corpus"]] if have_shared else common.DEMO_RAW
        if args.quick:
            raw = slice_corpus(raw, os.path.join(work_dir, "raw", recipe["corpus"]))
        raw_dirs[recipe["corpus"]] = raw
        data_dir = common.ensure_prepared(
            raw, os.path.join(work_dir, "prepared", f"{recipe['corpus']}_{recipe['tokenizer']}"),
            recipe["tokenizer"])
        results["recipes"][name] = run_recipe(args, name, recipe, data_dir, work_dir, seeds)
        results["total_seconds"] = round(time.time() - started, 1)
        common.write_json(args.out, results)  # after every recipe: partial results survive
    for name in ensembles:
        ensemble = ENSEMBLES[name]
        results["ensembles"][name] = run_ensemble(name, ensemble, work_dir,
                                                  raw_dirs[ensemble["corpus"]], results)
        common.write_json(args.out, results)
    results["machine"]["load_average_at_end"] = common.load_average()
    common.write_json(args.out, results)
    print(f"wrote {args.out}")
    for name, res in [*results["recipes"].items(), *results["ensembles"].items()]:
        acc, f1 = res["summary"]["test_accuracy"], res["summary"]["test_macro_f1"]
        print(f"{name:20s} test accuracy {acc['mean']:.4f} (min {acc['min']:.4f}, max "
              f"{acc['max']:.4f}), macro-F1 {f1['mean']:.4f}, "
              f"{res['summary']['train_seconds']['mean']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
