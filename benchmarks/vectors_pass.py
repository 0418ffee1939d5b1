"""Reading a large vectors file for a run with the wide path's vectors: one pass
serving both readers against a pass for each, side by side.

    python benchmarks/vectors_pass.py [--rows 1000000] [--dim 100] [--reps 4] [--quick]

The file is written by the script in word2vec's text format: single characters,
then words (a pass costs the same whatever the rows' order). The readers are those of a run with --pretrained_embeddings: the
recurrent model's vocabulary (characters and words of train, and up to
--added others) and the wide path's mean vectors (every single character).
`two_passes` reads the file once for each reader, `one_pass` once for both
(vectors.load_many); the order alternates from pair to pair to cancel drift on
a shared machine, and the ratio is taken within each pair.
"""

import argparse
import math
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "vectors_pass.json"),
                        help="where the JSON report goes")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the file")
    parser.add_argument("--dim", type=int, default=100, help="values a row")
    parser.add_argument("--characters", type=int, default=20_000,
                        help="single-character rows, at the file's start")
    parser.add_argument("--wanted", type=int, default=50_000,
                        help="tokens of the vocabulary, spread over the file")
    parser.add_argument("--added", type=int, default=10_000,
                        help="tokens the vectors may add (--pretrained_max_tokens)")
    parser.add_argument("--reps", type=int, default=4, help="pairs of runs")
    parser.add_argument("--quick", action="store_true",
                        help="a small file and one pair (CI smoke)")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.characters, args.wanted, args.added, args.reps = 5_000, 500, 800, 100, 1
    return args


def token(i, characters):
    return chr(0x4E00 + i) if i < characters else f"{chr(0x4E00 + i % characters)}词{i}"


def write_file(path, args):
    """Rows cycle through a pool of random ones: writing is quick, reading parses as
    much as any file's rows."""
    rng = random.Random(0)
    pool = [" ".join(f"{rng.uniform(-1, 1):.5f}" for _ in range(args.dim)) for _ in range(997)]
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{args.rows} {args.dim}\n")
        for i in range(args.rows):
            out.write(f"{token(i, args.characters)} {pool[i % len(pool)]}\n")


def requests(args):
    from textrnn.text import vectors
    every = max(1, args.rows // args.wanted)
    vocabulary = [token(i, args.characters) for i in range(0, args.rows, every)]
    return [vectors.Request(vocabulary, args.added),
            vectors.Request((), math.inf, vectors.is_character)]


def timed(read):
    start = time.perf_counter()
    kept = read()
    return time.perf_counter() - start, kept


def main():
    args = parse_args()
    from textrnn.text import vectors
    started, log = common.timed_log()
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "vectors.vec")
        write_file(path, args)
        log(f"wrote {args.rows:,} rows of {args.dim} ({os.path.getsize(path) / 1e6:.0f} MB)")
        wanted = requests(args)
        pairs = []
        for rep in range(args.reps):
            runs = {"two": lambda: [vectors.load_many(path, [r])[0] for r in wanted],
                    "one": lambda: vectors.load_many(path, wanted)}
            order = ("two", "one") if rep % 2 == 0 else ("one", "two")  # drift cancels
            times = {name: timed(runs[name]) for name in order}
            (two, separate), (one, together) = times["two"], times["one"]
            assert [v.tokens for v in separate] == [v.tokens for v in together]
            pairs.append({"two_passes_s": round(two, 2), "one_pass_s": round(one, 2),
                          "ratio": round(one / two, 3)})
            log(f"pair {rep + 1}: two passes {two:.1f}s, one pass {one:.1f}s")
        size_mb = os.path.getsize(path) / 1e6
    ratios = [p["ratio"] for p in pairs]
    result = {"machine": common.machine_info(),
              "command": common.command_line(__file__, sys.argv[1:]), "quick": args.quick,
              "file": {"rows": args.rows, "dim": args.dim, "characters": args.characters,
                       "mb": round(size_mb, 1)},
              "kept": {"vocabulary": len(together[0].tokens), "characters": len(together[1].tokens)},
              "pairs": pairs, "ratio": common.summary(ratios)}
    common.finish(result, started, args.out, log)


if __name__ == "__main__":
    main()
