"""How the auto recipe's recurrent model should treat pretrained vectors, measured on val.

For each shared corpus and seed, the auto recipe's recurrent model (characters,
--recipe=auto --nowide, the member that the vectors change) is trained with
each way of starting and training the embedding:

- random: no vectors (what textrnn does without --pretrained_embeddings);
- train: the vectors, the embedding trained as the rest from the first step;
- thaw: the vectors, frozen for the first third of the steps, then trained;
- slow: the vectors, the embedding at a tenth of the learning rate;
- frozen: the vectors, never updated;
- rescaled: the vectors scaled to the random embedding's standard deviation
  (--rescale_vectors), then trained as the rest;
- half_dropout: the vectors trained as the rest, at the embedding dropout
  the recipe uses without vectors (0.5) in place of its 0.25 with them.

The recipe follows the option using the vectors with the best val accuracy
averaged over corpora and seeds (test is reported, never used to choose).

    python benchmarks/studies/pretrained.py                       # four corpora, seed 1
    python benchmarks/studies/pretrained.py --corpora=tnews --seeds=1,2,3 --options=random,train
    python benchmarks/studies/pretrained.py --train_lines=800 --options=train,rescaled

--train_lines=N trains on a sample of N train lines (val and test whole): a
small-corpus version of each corpus, to see whether a rule for small corpora
holds beyond the one small corpus there is.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402

CORPORA = ("tnews", "waimai_10k", "cnews", "thucnews_titles")
VECTORS = os.path.join(common.SHARED_DATA, "vectors", "tencent_char_200d.vec.gz")
OPTIONS = {  # option -> (uses the vectors, flags; FROZEN_SHARE of the steps frozen)
    "random": (False, {}),
    "train": (True, {}),
    "thaw": (True, {"freeze_share": 1 / 3}),
    "slow": (True, {"embedding_lr_scale": 0.1}),
    "frozen": (True, {"freeze_share": 1.0}),
    "rescaled": (True, {"rescale_vectors": True}),
    "half_dropout": (True, {"embedding_dropout": 0.5}),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "studies", "results",
                                                      "pretrained.json"))
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--options", default=",".join(OPTIONS))
    parser.add_argument("--vectors", default=VECTORS)
    parser.add_argument("--work_dir", default=os.path.join(common.ROOT, "runs", "pretrained"))
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: "
                        "the recipe's); small values make a smoke run")
    parser.add_argument("--train_lines", type=int, default=None, help="train on a seeded "
                        "sample of this many train lines (val and test whole): a small "
                        "version of each corpus")
    return parser.parse_args(argv)


def flags_for(option, prepared, vectors, steps):
    from textrnn.training import recipe
    uses, settings = OPTIONS[option]
    if not uses:
        return []
    flags = [f"--pretrained_embeddings={vectors}"]
    if "freeze_share" in settings:
        total = steps or next(c.value for c in recipe.choose(prepared) if c.flag == "num_train_steps")
        flags.append(f"--freeze_embedding_steps={round(total * settings['freeze_share'])}")
    if settings.get("rescale_vectors"):
        flags.append("--rescale_vectors")
    if "embedding_dropout" in settings:
        flags.append(f"--embedding_dropout={settings['embedding_dropout']}")
    if "embedding_lr_scale" in settings:
        flags.append(f"--embedding_lr_scale={settings['embedding_lr_scale']}")
    return flags


def run(option, prepared, model_dir, seed, vectors, steps):
    command = [sys.executable, "-m", "textrnn.train", "--recipe=auto", "--nowide",
               "--export=false", f"--data_dir={prepared}", f"--model_dir={model_dir}",
               f"--seed={seed}", *flags_for(option, prepared, vectors, steps),
               *([f"--num_train_steps={steps}"] if steps else [])]
    subprocess.run(["rm", "-rf", model_dir], check=True)
    started = time.perf_counter()
    with open(model_dir + ".log", "w", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=common.ROOT, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed; see {model_dir}.log")
    with open(os.path.join(model_dir, "metrics.json"), encoding="utf-8") as stream:
        metrics = json.load(stream)
    pretrained = metrics.get("pretrained") or {}
    return dict(val_accuracy=metrics["val_accuracy"], test_accuracy=metrics["test_accuracy"],
                best_step=metrics["best_step"], steps=metrics["global_step"],
                seconds=round(time.perf_counter() - started, 1),
                **{k: pretrained[k] for k in ("train_coverage", "val_coverage", "added")
                   if k in pretrained})


def main(argv=None):
    args = parse_args(argv)
    start, log = common.timed_log()
    seeds = [int(s) for s in args.seeds.split(",")]
    options = args.options.split(",")
    result = dict(machine=common.machine_info(), vectors=os.path.basename(args.vectors),
                  seeds=seeds, steps=args.steps, train_lines=args.train_lines,
                  command=common.command_line(__file__, argv),
                  corpora={})
    for name in args.corpora.split(","):
        raw = os.path.join(common.SHARED_DATA, name)
        if not common.have_raw(raw):
            log(f"{name}: skipped ({raw} is absent)")
            continue
        if args.train_lines:
            raw = sample_train(raw, os.path.join(args.work_dir, name, "raw"), args.train_lines)
        prepared = common.ensure_prepared(raw, os.path.join(args.work_dir, name, "prepared"),
                                          "char")
        runs = result["corpora"][name] = {}
        for option in options:
            runs[option] = []
            for seed in seeds:
                model_dir = os.path.join(args.work_dir, name, f"{option}-seed{seed}")
                runs[option].append(dict(run(option, prepared, model_dir, seed, args.vectors,
                                             args.steps), seed=seed))
                log(f"{name} {option} seed {seed}: val {runs[option][-1]['val_accuracy']:.4f} "
                    f"test {runs[option][-1]['test_accuracy']:.4f}")
            common.write_json(args.out, result)
    summarise(result, options)
    log(f"best mean val accuracy: {result['chosen_by_val']} ({result['mean']})")
    common.finish(result, start, args.out, log)


def sample_train(raw_dir, out_dir, lines):
    """A raw corpus folder whose train is `lines` lines of raw_dir's, drawn with a fixed
    seed (in their order), and whose val and test are raw_dir's."""
    paths = common.raw_paths(raw_dir)
    with open(paths["train"], encoding="utf-8") as stream:
        train = stream.readlines()
    if lines >= len(train):
        raise SystemExit(f"--train_lines={lines}: {paths['train']} has only {len(train)} lines")
    keep = sorted(random.Random(0).sample(range(len(train)), lines))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "train.txt"), "w", encoding="utf-8") as out:
        out.writelines(train[i] for i in keep)
    for split in ("val", "test"):
        target = os.path.join(out_dir, f"{split}.txt")
        if not os.path.exists(target):
            os.symlink(os.path.abspath(paths[split]), target)
    return out_dir


def summarise(result, options):
    """Each option's val and test accuracy averaged over the corpora and seeds that ran
    (all of them), and the option with vectors that val prefers."""
    done = [runs for runs in result["corpora"].values() if all(runs.get(o) for o in options)]
    result["mean"] = {option: {split: round(float(np.mean(
        [r[split] for runs in done for r in runs[option]])), 4)
        for split in ("val_accuracy", "test_accuracy")} for option in options}
    result["mean_over"] = [name for name, runs in result["corpora"].items() if runs in done]
    with_vectors = [o for o in options if OPTIONS[o][0]]
    result["chosen_by_val"] = max(with_vectors, key=lambda o: result["mean"][o]["val_accuracy"])


if __name__ == "__main__":
    main()
