"""Peak memory of textrnn-prepare, of a short training run and of the default
recipe end to end, 100 MB vs 1 GB.

Builds large raw corpora by repeating ../shared/data (THUCNews headlines and
the cnews sample), each repetition with its own marker token so no two lines
repeat, then measures peak resident memory with /usr/bin/time -v (the
largest single process) and by sampling the whole process tree (parent plus
tokenizer workers), which is what the machine actually spends.

    python benchmarks/memory.py --out benchmarks/results/memory.json [--sizes_mb 100,1000]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import common  # benchmarks/ is this script's folder, first on sys.path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
QUICK_EVAL_LINES = 500
SOURCES = [os.path.join(SHARED, "thucnews_titles", "train.txt"), os.path.join(SHARED, "cnews", "train.txt")]


def build_corpus(path, size_bytes):
    """Repeat the shared training lines until the file reaches size_bytes."""
    lines = []
    for source in SOURCES:
        with open(source, encoding="utf-8") as stream:
            lines += [line.rstrip("\n") for line in stream if "\t" in line]
    written, repetition = 0, 0
    with open(path, "w", encoding="utf-8") as out:
        while written < size_bytes:
            for line in lines:
                row = f"{line} 第{repetition}轮\n"
                out.write(row)
                written += len(row.encode("utf-8"))
                if written >= size_bytes:
                    break
            repetition += 1
    return written


def tree_rss_kb(pid):
    """Resident memory of pid and all its descendants, in kB (from /proc)."""
    total, children = 0, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))
        except (OSError, AttributeError):
            pass
        stack += children.get(current, [])
    return total


def eval_split(work, split, lines=None):
    """The headlines' dev or test file; with `lines`, a copy of its first `lines` lines."""
    path = os.path.join(SHARED, "thucnews_titles", f"{split}.txt")
    if lines is None:
        return path
    cut = os.path.join(work, f"{split}{lines}.txt")
    with open(path, encoding="utf-8") as source, open(cut, "w", encoding="utf-8") as out:
        out.writelines(line for _, line in zip(range(lines), source))
    return cut


def measure(command):
    """Run command under /usr/bin/time -v; returns (seconds, max single RSS MB, peak tree RSS MB)."""
    started = time.monotonic()
    process = subprocess.Popen(["/usr/bin/time", "-v", *command], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_kb(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr[-3000:]}")
    single = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    return time.monotonic() - started, single / 1024, peak[0] / 1024


def auto_run(python, prepared, model_dir, extra=()):
    """Seconds, peak memory, SavedModel size and what the default recipe did, end to end
    (`extra`: flags that override the recipe's choices, for --quick)."""
    seconds, single, tree = measure([python, "-m", "textrnn.train", "--recipe=auto",
                                     f"--data_dir={prepared}", f"--model_dir={model_dir}", *extra])
    metrics = common.read_json(os.path.join(model_dir, "metrics.json"))
    wide = metrics["wide"]
    export = os.path.join(model_dir, "export")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(export)
               for f in files)
    return dict(auto_seconds=round(seconds, 1), auto_max_rss_mb=round(single, 1),
                auto_tree_peak_rss_mb=round(tree, 1), auto_saved_model_mb=round(size / 2**20, 1),
                auto_steps=metrics["global_step"], auto_wide_train_texts=wide["train_texts"],
                auto_wide_every=wide["train_every"], auto_wide_seconds=wide["seconds"],
                auto_test_accuracy=metrics["test_accuracy"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "memory.json"))
    parser.add_argument("--sizes_mb", default="100,1000", help="corpus sizes to compare, MB")
    parser.add_argument("--tokenizer", default="char", help="char or jieba")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--train_steps", type=int, default=200)
    parser.add_argument("--auto", type=int, default=1, help="1: also train the default "
                        "recipe end to end (--recipe=auto: the recurrent and the wide path, "
                        "export), as make train DATA=... does; 0: skip it")
    parser.add_argument("--work_dir", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="1 MB, 5 steps, val and test "
                        f"cut to {QUICK_EVAL_LINES} lines (CI smoke)")
    args = parser.parse_args()
    if args.quick:
        args.sizes_mb, args.train_steps = "1", 5
    if not all(os.path.isfile(p) for p in SOURCES):
        print(f"skipped: {SHARED} is absent", file=sys.stderr)
        return
    work = args.work_dir or tempfile.mkdtemp(prefix="textrnn-memory-")
    python = sys.executable
    results = []
    for size_mb in [int(s) for s in args.sizes_mb.split(",")]:
        raw = os.path.join(work, f"raw{size_mb}.txt")
        actual = build_corpus(raw, size_mb * 1_000_000)
        prepared = os.path.join(work, f"prepared{size_mb}")
        dev, test = (eval_split(work, split, QUICK_EVAL_LINES if args.quick else None)
                     for split in ("dev", "test"))
        seconds, single, tree = measure([python, "-m", "textrnn.prepare", f"--train={raw}",
                                         f"--val={dev}", f"--test={test}", f"--out_dir={prepared}",
                                         f"--tokenizer={args.tokenizer}",
                                         f"--num_workers={args.workers}", "--progress_every=0"])
        row = dict(corpus_mb=round(actual / 1e6, 1), tokenizer=args.tokenizer, workers=args.workers,
                   prepare_seconds=round(seconds, 1), prepare_max_rss_mb=round(single, 1),
                   prepare_tree_peak_rss_mb=round(tree, 1))
        model_dir = os.path.join(work, f"model{size_mb}")
        seconds, single, tree = measure([python, "-m", "textrnn.train", f"--data_dir={prepared}",
                                         f"--model_dir={model_dir}", "--flagfile=flags/original.flags",
                                         f"--num_train_steps={args.train_steps}",
                                         f"--eval_every_steps={args.train_steps}", "--export=false"])
        row.update(train_steps=args.train_steps, train_seconds=round(seconds, 1),
                   train_max_rss_mb=round(single, 1), train_tree_peak_rss_mb=round(tree, 1))
        if args.auto:
            # quick: a few steps, no word cut, and a bound the 1 MB corpus is over, so the
            # sample runs
            quick = (["--num_train_steps=20", "--wide_max_train_mb=0.25", "--wide_words=false"]
                     if args.quick else [])
            row.update(auto_run(python, prepared, os.path.join(work, f"auto{size_mb}"), quick))
        print(json.dumps(row), flush=True)
        results.append(row)
        os.remove(raw)
    report = dict(machine=dict(cpus=os.cpu_count()), command=" ".join(sys.argv), results=results)
    common.write_json(args.out, report)


if __name__ == "__main__":
    main()
