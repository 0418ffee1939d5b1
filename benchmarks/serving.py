"""Serving speed of an exported textrnn SavedModel.

    python benchmarks/serving.py --out benchmarks/results/serving.json [--quick] [--model_dir=M]
    python benchmarks/serving.py --saved_model=E --title="..." --out benchmarks/results/serving_X.json

--saved_model measures any export, e.g. an ensemble from `textrnn-export
--model_dir=a,b,c`. Without --model_dir or --saved_model a small model is
trained first, the way the README does:
`textrnn-prepare` (jieba) on the shipped demo corpus, then
`python -m textrnn.train --flagfile=flags/demo.flags`, which exports it.

Measured, after warm-up:
- in-process signature: tf.saved_model.load(export).signatures["serving_default"]
  (text=...) on one text at a time (latency p50/p90/p99) and on batches of
  256 texts (texts/s). Inputs are the demo test split's texts, already
  segmented as the signature expects for a jieba model.
- textrnn.inference.Predictor (what textrnn-predict runs): one raw text,
  jieba included, in a warm process.
- `python -m textrnn.predict --model_dir=M "text"`: one whole command,
  process start, imports, SavedModel load and jieba's dictionary included.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "serving.json"))
    parser.add_argument("--quick", action="store_true", help="few calls (CI smoke)")
    parser.add_argument("--model_dir", default=None, help="a trained model dir (with export/)")
    parser.add_argument("--saved_model", default=None, help="an exported SavedModel folder")
    parser.add_argument("--title", default="SavedModel of a flags/demo.flags model, jieba",
                        help="what is measured, for BENCHMARKS.md")
    parser.add_argument("--threads", type=int, default=2, help="TF intra/inter-op threads")
    parser.add_argument("--batch_size", type=int, default=256)
    return parser.parse_args()


def train_demo_model(workdir, quick, log):
    prepared = os.path.join(workdir, "demo_jieba")
    model_dir = os.path.join(workdir, "model")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (common.ROOT, os.environ.get("PYTHONPATH")) if p))
    paths = common.raw_paths(common.DEMO_RAW)
    prepare = [sys.executable, "-m", "textrnn.prepare", f"--train={paths['train']}",
               f"--val={paths['val']}", f"--test={paths['test']}", "--tokenizer=jieba",
               f"--out_dir={prepared}", "--progress_every=0"]
    train = [sys.executable, "-m", "textrnn.train",
             f"--flagfile={os.path.join(common.ROOT, 'flags', 'demo.flags')}",
             f"--data_dir={prepared}", f"--model_dir={model_dir}"]
    if quick:
        train += ["--num_train_steps=20", "--eval_every_steps=20", "--log_every_steps=20",
                  "--checkpoint_every_steps=20"]
    for command in (prepare, train):
        log("$ " + " ".join(command))
        subprocess.run(command, env=env, check=True, cwd=common.ROOT,
                       stdout=subprocess.DEVNULL)
    return model_dir, [" ".join(c) for c in (prepare, train)], prepared


def test_texts(prepared_or_model_dir):
    """Segmented texts (the signature's input) and raw texts of the demo test split."""
    segmented = []
    prepared_test = os.path.join(prepared_or_model_dir, "test.txt") if prepared_or_model_dir else None
    if prepared_test and os.path.isfile(prepared_test):
        with open(prepared_test, encoding="utf-8") as stream:
            segmented = [line.rstrip("\n").split("\t", 1)[1] for line in stream]
    with open(common.raw_paths(common.DEMO_RAW)["test"], encoding="utf-8") as stream:
        raw = [line.rstrip("\n").split("\t", 1)[1] for line in stream]
    return segmented, raw


def latencies(call, inputs, warmup, count):
    for i in range(warmup):
        call(inputs[i % len(inputs)])
    out = []
    for i in range(count):
        start = time.perf_counter()
        call(inputs[i % len(inputs)])
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def latency_summary(ms):
    return dict(n=len(ms), p50_ms=round(common.percentile(ms, 50), 3),
                p90_ms=round(common.percentile(ms, 90), 3),
                p99_ms=round(common.percentile(ms, 99), 3),
                mean_ms=round(sum(ms) / len(ms), 3), max_ms=round(max(ms), 3))


def main():
    args = parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.time()

    def log(message):
        print(f"[{time.time() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    workdir = tempfile.mkdtemp(prefix="textrnn-serving-")
    commands, prepared, model_dir = [], None, args.model_dir
    if args.saved_model:
        export_dir = args.saved_model
    else:
        if not model_dir:
            model_dir, commands, prepared = train_demo_model(workdir, args.quick, log)
        export_dir = os.path.join(model_dir, "export")

    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    result = dict(benchmark="SavedModel serving: in-process signature, Predictor, CLI",
                  command=" ".join(["python"] + sys.argv), quick=args.quick,
                  model_commands=commands, title=args.title, saved_model=export_dir,
                  machine=common.machine_info(threads=dict(intra_op=args.threads,
                                                           inter_op=args.threads)),
                  model_dir=model_dir)
    segmented, raw = test_texts(prepared)
    if not segmented:  # a given model_dir: segment the raw texts with its tokenizer
        from textrnn.inference import Predictor
        predictor = Predictor(export_dir)
        segmented = [predictor.tokens(t) for t in raw]
    result["texts"] = dict(source="data/demo/test.txt", count=len(segmented),
                           mean_tokens=round(sum(len(s.split()) for s in segmented)
                                             / len(segmented), 1),
                           mean_chars_raw=round(sum(map(len, raw)) / len(raw), 1))

    started = time.perf_counter()
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    result["load_seconds"] = round(time.perf_counter() - started, 3)
    single = [tf.constant([t]) for t in segmented]

    def call_one(text):
        serve(text=text)["class_id"].numpy()

    started = time.perf_counter()
    call_one(single[0])
    result["first_call_ms"] = round((time.perf_counter() - started) * 1000, 3)
    count = 50 if args.quick else 2000
    ms = latencies(call_one, single, warmup=10 if args.quick else 100, count=count)
    result["single_text_latency"] = latency_summary(ms)
    log(f"single text: p50 {result['single_text_latency']['p50_ms']} ms, "
        f"p99 {result['single_text_latency']['p99_ms']} ms")

    n = args.batch_size
    batches = [tf.constant([segmented[(i * n + j) % len(segmented)] for j in range(n)])
               for i in range(4)]
    rates = []
    reps = 2 if args.quick else 7
    calls = 2 if args.quick else 10
    for b in batches:
        call_one(b)  # warm-up
    for _ in range(reps):
        started = time.perf_counter()
        for i in range(calls):
            call_one(batches[i % len(batches)])
        rates.append(calls * n / (time.perf_counter() - started))
    result[f"batch_{n}_throughput"] = dict(texts_per_second=common.summary(rates),
                                           calls_per_rep=calls)
    log(f"batch {n}: {common.summary(rates)['median']:,.0f} texts/s")

    # Predictor: raw text, jieba in the loop, warm process.
    from textrnn.inference import Predictor
    predictor = Predictor(export_dir)

    def predict_one(text):
        list(predictor.predict([text]))

    ms = latencies(predict_one, raw, warmup=10, count=50 if args.quick else 1000)
    result["predictor_single_raw_text_latency"] = latency_summary(ms)
    log(f"Predictor one raw text: p50 {common.percentile(ms, 50):.2f} ms")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (common.ROOT, os.environ.get("PYTHONPATH")) if p))
    command = [sys.executable, "-m", "textrnn.predict", f"--saved_model={export_dir}", raw[0]]
    walls = []
    for _ in range(1 if args.quick else 5):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=common.ROOT, capture_output=True,
                              text=True, check=True)
        walls.append(time.perf_counter() - started)
    result["cli_end_to_end"] = dict(
        command=f"python -m textrnn.predict --saved_model=E \"{raw[0][:20]}…\"",
        seconds=common.summary(walls), example_output=done.stdout.strip()[:120])
    log(f"CLI end to end: {common.summary(walls)['median']:.2f}s")
    common.finish(result, start, args.out, log)


if __name__ == "__main__":
    main()
