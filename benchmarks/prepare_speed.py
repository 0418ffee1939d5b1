"""textrnn-prepare throughput: MB/s and lines/s, 1 worker against 2 workers.

    python benchmarks/prepare_speed.py --out benchmarks/results/prepare_speed.json [--quick]

Each run is the library call behind `textrnn-prepare` (textrnn.text.prepare.prepare)
on a whole corpus (train, val and test), timed end to end: reading, jieba
segmentation in --num_workers processes, vocabulary counting, writing.
Runs alternate 1, 2, 1, 2 ... workers to cancel drift on a shared machine;
the scaling ratio is taken within each pair. Input bytes and lines are those
of the three raw files.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "prepare_speed.json"))
    parser.add_argument("--quick", action="store_true",
                        help="one pair of runs on the shipped demo corpus (CI smoke)")
    parser.add_argument("--reps", type=int, default=3, help="pairs (1 worker, 2 workers) per corpus")
    parser.add_argument("--tokenizer", default="jieba")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--sizes_mb", default="",
                        help="also synthetic corpora of these train sizes (MB, comma-separated; "
                             "the headlines repeated, headline dev/test as val/test): where "
                             "parallel workers start paying off (prepare.PARALLEL_MIN_MB)")
    return parser.parse_args()


def corpus_size(paths):
    size = lines = 0
    for path in paths.values():
        size += os.path.getsize(path)
        with open(path, "rb") as stream:
            lines += sum(1 for _ in stream)
    return size, lines


def time_prepare(paths, tokenizer, workers, workdir):
    from textrnn.text import prepare
    out_dir = tempfile.mkdtemp(dir=workdir)
    start = time.perf_counter()
    prepare.prepare(paths, out_dir, tokenizer=tokenizer, num_workers=workers, progress_every=0)
    seconds = time.perf_counter() - start
    shutil.rmtree(out_dir, ignore_errors=True)
    return seconds


def bench_corpus(name, raw_dir, args, workers, log, workdir):
    paths = common.raw_paths(raw_dir)
    size, lines = corpus_size(paths)
    from textrnn.text import tokenize
    start = time.perf_counter()
    tokenize.get_tokenizer(args.tokenizer)("预热")  # jieba's dictionary load, once per process
    dict_seconds = time.perf_counter() - start
    seconds = {w: [] for w in workers}
    reps = 1 if args.quick else args.reps
    for rep in range(reps):
        for w in (workers if rep % 2 == 0 else workers[::-1]):
            seconds[w].append(time_prepare(paths, args.tokenizer, w, workdir))
            log(f"  {name}: {w} worker(s) {seconds[w][-1]:.2f}s "
                f"({size / 1e6 / seconds[w][-1]:.2f} MB/s, load {common.load_average()})")
    result = dict(files={k: os.path.relpath(p, common.SHARED_DATA) if p.startswith(
                      common.SHARED_DATA) else os.path.relpath(p, common.ROOT)
                      for k, p in paths.items()},
                  bytes=size, lines=lines, tokenizer=args.tokenizer,
                  jieba_dictionary_load_seconds_in_parent=round(dict_seconds, 3),
                  runs={})
    for w in workers:
        result["runs"][f"{w}_workers"] = dict(
            seconds=common.summary(seconds[w]),
            mb_per_second=common.summary([size / 1e6 / s for s in seconds[w]]),
            lines_per_second=common.summary([lines / s for s in seconds[w]]))
    if len(workers) == 2:
        a, b = workers
        result[f"scaling_{b}_over_{a}_workers"] = common.summary(
            [x / y for x, y in zip(seconds[a], seconds[b])])
    return result


def synthetic_corpus(workdir, mb):
    """A raw folder whose train.txt is `mb` MB of repeated headlines (memory.build_corpus)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import memory
    raw = os.path.join(workdir, f"synthetic_{mb}mb")
    os.makedirs(raw, exist_ok=True)
    memory.build_corpus(os.path.join(raw, "train.txt"), int(mb * 1e6))
    for split, source in (("val", "dev.txt"), ("test", "test.txt")):
        shutil.copyfile(os.path.join(common.HEADLINES_RAW, source), os.path.join(raw, f"{split}.txt"))
    return raw


def main():
    args = parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    start, log = common.timed_log()

    result = dict(benchmark="textrnn-prepare throughput (textrnn.text.prepare.prepare), "
                            "train+val+test, wall clock",
                  command=" ".join(["python"] + sys.argv), quick=args.quick,
                  machine=common.machine_info(), corpora={})
    workdir = tempfile.mkdtemp(prefix="textrnn-prepare-speed-")
    corpora = {"demo": common.DEMO_RAW} if args.quick else {
        "cnews_sample": common.CNEWS_RAW, "thucnews_headlines": common.HEADLINES_RAW}
    for name, raw_dir in corpora.items():
        if not common.have_raw(raw_dir):
            log(f"skipped {name}: {raw_dir} is absent")
            result["corpora"][name] = dict(skipped=f"{raw_dir} absent")
            continue
        result["corpora"][name] = bench_corpus(name, raw_dir, args, workers, log, workdir)
        common.write_json(args.out, result)
    for mb in [float(x) for x in args.sizes_mb.split(",") if x]:
        name = f"synthetic_{mb:g}mb"
        result["corpora"][name] = dict(
            bench_corpus(name, synthetic_corpus(workdir, mb), args, workers, log, workdir),
            files=dict(train=f"thucnews_titles/train.txt and cnews/train.txt repeated to {mb:g} MB",
                       val="thucnews_titles/dev.txt", test="thucnews_titles/test.txt"))
        common.write_json(args.out, result)
    shutil.rmtree(workdir, ignore_errors=True)
    common.finish(result, start, args.out, log)


if __name__ == "__main__":
    main()
