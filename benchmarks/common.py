"""Shared helpers of the benchmark scripts: machine info, timing statistics, paths.

Every number a benchmark writes comes from a measurement in that run; these
helpers only summarise (median, spread) and describe the machine.
"""

import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get("TEXTRNN_SHARED_DATA",
                             os.path.join(os.path.dirname(ROOT), "shared", "data"))
HEADLINES_RAW = os.path.join(SHARED_DATA, "thucnews_titles")
CNEWS_RAW = os.path.join(SHARED_DATA, "cnews")
DEMO_RAW = os.path.join(ROOT, "data", "demo")


def raw_paths(raw_dir):
    """{'train', 'val', 'test'} files of a raw corpus folder (headlines call val dev.txt)."""
    val = os.path.join(raw_dir, "val.txt")
    if not os.path.isfile(val):
        val = os.path.join(raw_dir, "dev.txt")
    return dict(train=os.path.join(raw_dir, "train.txt"), val=val,
                test=os.path.join(raw_dir, "test.txt"))


def add_run_flags(parser):
    """--run_dirs and --runs: the multi-label `make train` runs a script measures
    (peers_multilabel.py's, each a RUN folder with prepared/ and model/)."""
    parser.add_argument("--run_dirs", default=None, help="comma-separated RUN folders of "
                        "make train (default: textrnn's runs in --runs)")
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "peers_multilabel"),
                        help="peers_multilabel.py's --work_dir")


def runs_given(args):
    """The RUN folders `add_run_flags` named; exits saying what to run when there are none."""
    import glob
    runs = (args.run_dirs.split(",") if args.run_dirs else
            sorted(glob.glob(os.path.join(args.runs, "*-textrnn-seed[0-9]"))))
    if not runs:
        raise SystemExit(f"no run given and none in {args.runs}; run "
                         "benchmarks/peers_multilabel.py --work_dir=... first")
    return runs


def have_raw(raw_dir):
    return all(os.path.isfile(p) for p in raw_paths(raw_dir).values())


def shared_corpora(names, work_dir, quick):
    """(name, raw folder) of each shared corpus of `names` that is present (with `quick`,
    a small slice of it under work_dir); the absent ones are named and skipped."""
    for name in names:
        raw_dir = os.path.join(SHARED_DATA, name)
        if not have_raw(raw_dir):
            print(f"{name}: skipped ({raw_dir} is absent)", file=sys.stderr)
            continue
        if quick:
            from accuracy import slice_corpus
            raw_dir = slice_corpus(raw_dir, os.path.join(work_dir, f"{name}-quick"))
        yield name, raw_dir


def each_corpus(report, corpora, run, out):
    """report["corpora"][name] = run(name, raw_dir) for each (name, raw folder) of
    `corpora`, the report written to `out` after each (partial results survive a stop);
    says so when there was none."""
    for name, raw_dir in corpora:
        report["corpora"][name] = run(name, raw_dir)
        write_json(out, report)
    if not report["corpora"]:
        print("skipped: no shared corpus found", file=sys.stderr)
        return
    print(f"wrote {out}", file=sys.stderr)


def ensure_prepared(raw_dir, out_dir, tokenizer):
    """Reuse a textrnn-prepare folder if it holds the same inputs; else prepare it."""
    from textrnn.text import prepare
    manifest = os.path.join(out_dir, "manifest.json")
    paths = raw_paths(raw_dir)
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as stream:
            old = json.load(stream)
        sources = {s: old["splits"][s]["source"] for s in ("train", "val", "test")}
        if old.get("tokenizer") == tokenizer and sources == {
                s: os.path.abspath(p) for s, p in paths.items()}:
            return out_dir
    prepare.prepare(paths, out_dir, tokenizer=tokenizer, num_workers=1, progress_every=0)
    return out_dir


def command_line(script, argv):
    """How a benchmark was run, for its results file: `python benchmarks/NAME args`, or
    `python benchmarks/studies/NAME args` for a study (`argv`: main's argument, None for
    the process's own)."""
    args = argv if argv is not None else sys.argv[1:]
    folder = os.path.basename(os.path.dirname(os.path.abspath(script)))
    where = "benchmarks/studies" if folder == "studies" else "benchmarks"
    return " ".join(["python", f"{where}/{os.path.basename(script)}", *args])


def mean_of_runs(rows, keys, metrics):
    """{key: {metric: mean over rows of row[key][metric]}}, rounded to 4 places."""
    return {k: {m: round(float(sum(r[k][m] for r in rows) / len(rows)), 4) for m in metrics}
            for k in keys}


def summary(values):
    """Median, min, max and relative spread ((max - min) / median) of a list."""
    values = [float(v) for v in values]
    med = statistics.median(values)
    return dict(median=round(med, 4), min=round(min(values), 4), max=round(max(values), 4),
                spread=round((max(values) - min(values)) / med, 4) if med else None,
                n=len(values), values=[round(v, 4) for v in values])


def percentile(values, q):
    """q-th percentile (0..100), linear interpolation, of a non-empty list."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def training_code():
    """A hash of what `make train` runs (the package, Makefile, flagfiles, setup.cfg):
    equal hashes mean a run's model would be trained the same way again."""
    digest = hashlib.sha256()
    for top in ("textrnn", "flags", "Makefile", "setup.cfg"):
        path = os.path.join(ROOT, top)
        files = [path] if os.path.isfile(path) else sorted(
            os.path.join(folder, name) for folder, dirs, names in os.walk(path)
            for name in names if "__pycache__" not in folder)
        for name in files:
            digest.update(os.path.relpath(name, ROOT).encode("utf-8") + b"\0")
            with open(name, "rb") as stream:
                digest.update(stream.read() + b"\0")
    return digest.hexdigest()[:16]


def machine_info(**extra):
    """CPU, Python and library versions; callers add thread settings etc."""
    info = dict(cpu_count=os.cpu_count(), cpu_model=cpu_model(), platform=platform.platform(),
                python=sys.version.split()[0], load_average_at_start=load_average(),
                textrnn_commit=git_commit())
    try:
        import tensorflow as tf
        import keras
        info.update(tensorflow=tf.__version__, keras=keras.__version__,
                    onednn_env=os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
    except ImportError:
        pass
    if "torch" in sys.modules:
        info["torch"] = sys.modules["torch"].__version__
    info.update(extra)
    return info


def portable(value):
    """value with this machine's paths made relative: the checkout becomes '.' (or
    nothing), the shared data '../shared/data', the temporary folder '$TMPDIR'."""
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v) for v in value]
    if not isinstance(value, str):
        return value
    for prefix, short in ((os.path.abspath(SHARED_DATA), "../shared/data"), (ROOT + os.sep, ""),
                          (ROOT, "."), (tempfile.gettempdir(), "$TMPDIR"),
                          (os.path.expanduser("~"), "~")):
        # a whole path only: the checkout's path is not the start of a sibling's
        whole = "" if prefix.endswith(os.sep) else r"(?![\w.-])"
        value = re.sub(re.escape(prefix) + whole, lambda _: short, value)
    return value


def read_json(path):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def load_if_present(path):
    """The JSON file at path, or None when there is none."""
    return read_json(path) if os.path.isfile(path) else None


def fmt(x, digits=0):
    """A number for a table, with thousands separators; a dash for None."""
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def write_json(path, value):
    """value as JSON at path (atomically), with machine paths made relative (`portable`)."""
    value = portable(value)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, indent=2)
        out.write("\n")
    os.replace(tmp, path)


def timed_log():
    """(start time, log): log(message) prints it to stderr after the seconds since start."""
    import time
    start = time.time()

    def log(message):
        print(f"[{time.time() - start:6.1f}s] {message}", file=sys.stderr, flush=True)
    return start, log


def finish(result, start, out, log):
    """Stamp the run's duration and closing load, write the JSON, say where."""
    import time
    result["seconds"] = round(time.time() - start, 1)
    result["machine"]["load_average_at_end"] = load_average()
    write_json(out, result)
    log(f"wrote {out}")
