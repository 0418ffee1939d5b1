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
  256 texts (texts/s). Inputs are the demo test split's raw texts (text cut
  by jieba, HMM on, for the rare model that reads segmented text).
- the `tokenize` signature the same way: the in-graph segmentation alone,
  the share of serving time it takes, at headline length (the demo texts)
  and, with --long_texts, at the length of those texts.
- multiply-adds per text of the recurrent members, from their configuration
  (embedding lookups are free; LSTM/GRU cells and dense layers count; a wide
  path's sparse rows are not counted), at the mean token count of the inputs.
- textrnn.serving.inference.Predictor (what textrnn-predict runs): one raw text in a
  warm process.
- `python -m textrnn.predict --saved_model=E "text"`: one whole command,
  process start, imports and SavedModel load included.
"""

import argparse
import json
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
    parser.add_argument("--texts", default=None,
                        help="a labelled file whose texts are sent (default: data/demo/test.txt)")
    parser.add_argument("--long_texts", default=None,
                        help="a labelled file of long texts (e.g. ../shared/data/cnews/test.txt): "
                             "also time segmentation and serving at their length")
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
    return model_dir, [" ".join(c) for c in (prepare, train)]


def raw_texts(path=None):
    """The raw texts of a labelled file (default: the demo test split)."""
    with open(path or common.raw_paths(common.DEMO_RAW)["test"], encoding="utf-8") as stream:
        return [line.rstrip("\n").split("\t", 1)[1] for line in stream]


def multiply_adds(model_dirs, tokens):
    """Multiply-adds per text of the members' recurrent models at `tokens` steps
    (None when a member's configuration is unknown, e.g. a bare SavedModel)."""
    total = 0
    for model_dir in model_dirs:
        try:
            with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as stream:
                config = json.load(stream)
        except OSError:
            return None
        m = config["model"]
        steps = min(tokens, config["encoder"]["num_timesteps"])
        gates = {"lstm": 4, "gru": 3}.get(m.get("cell", "lstm"), 4)
        width, directions = m["num_embedding_size"], 2 if m.get("bidirectional") else 1
        for units in m["num_lstm_nodes"]:
            total += steps * directions * gates * (width + units) * units
            width = units * directions
        for units in ([m["num_fc_nodes"]] if m.get("num_fc_nodes") else []) + [m["num_classes"]]:
            total += width * units
            width = units
    return int(total)


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


def time_signature(name, fn, inputs, args, log):
    """Single-text latency and batch throughput of one signature over `inputs`."""
    args = args if isinstance(args, dict) else vars(args)
    out = {}

    def call_one(text):
        list(fn(text=text).values())[0].numpy()

    single = [tf_constant([t]) for t in inputs]
    count = 50 if args["quick"] else 1000
    ms = latencies(call_one, single, warmup=10 if args["quick"] else 100, count=count)
    out["single_text_latency"] = latency_summary(ms)
    n = args["batch_size"]
    batches = [tf_constant([inputs[(i * n + j) % len(inputs)] for j in range(n)])
               for i in range(4)]
    rates = []
    calls = 2 if args["quick"] else 10
    for b in batches:
        call_one(b)  # warm-up
    for _ in range(2 if args["quick"] else 7):
        started = time.perf_counter()
        for i in range(calls):
            call_one(batches[i % len(batches)])
        rates.append(calls * n / (time.perf_counter() - started))
    out[f"batch_{n}_throughput"] = dict(texts_per_second=common.summary(rates),
                                        calls_per_rep=calls)
    log(f"{name}: single p50 "
        f"{out['single_text_latency']['p50_ms']} ms, batch {n}: "
        f"{common.summary(rates)['median']:,.0f} texts/s")
    return out


def tf_constant(values):
    import tensorflow as tf
    return tf.constant(values, tf.string)


def main():
    args = parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start, log = common.timed_log()

    workdir = tempfile.mkdtemp(prefix="textrnn-serving-")
    commands, model_dir = [], args.model_dir
    if args.saved_model:
        export_dir = args.saved_model
    else:
        if not model_dir:
            model_dir, commands = train_demo_model(workdir, args.quick, log)
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
    from textrnn.serving.inference import Predictor
    predictor = Predictor(export_dir)
    raw = raw_texts(args.texts)[:2000]
    inputs = [predictor.model_input(t) for t in raw]  # raw text, unless the model reads words
    started = time.perf_counter()
    model = tf.saved_model.load(export_dir)
    result["load_seconds"] = round(time.perf_counter() - started, 3)
    result["input"] = "raw" if predictor.raw_input else "segmented by jieba (HMM on)"
    tokens = model.signatures["tokenize"](text=tf.constant(inputs))["tokens"].numpy()
    mean_tokens = float((tokens != b"").sum(1).mean())
    result["texts"] = dict(source=common.portable(args.texts or "data/demo/test.txt"),
                           count=len(inputs),
                           mean_tokens=round(mean_tokens, 1),
                           mean_chars_raw=round(sum(map(len, raw)) / len(raw), 1))
    with open(os.path.join(export_dir, "assets.extra", "textrnn.json"), encoding="utf-8") as f:
        info = json.load(f)
    result["multiply_adds_per_text"] = multiply_adds(
        [m["model_dir"] for m in info.get("members", [])], round(mean_tokens))
    started = time.perf_counter()
    model.signatures["serving_default"](text=tf.constant(inputs[:1]))
    result["first_call_ms"] = round((time.perf_counter() - started) * 1000, 3)
    for signature, key in (("serving_default", ""), ("tokenize", "tokenize_")):
        result.update({key + k: v for k, v in
                       time_signature(signature, model.signatures[signature], inputs, args, log).items()})
    if args.long_texts:
        long = [predictor.model_input(t) for t in raw_texts(args.long_texts)[:500]]
        result["long_texts"] = dict(source=common.portable(args.long_texts), count=len(long),
                                    mean_chars_raw=round(sum(map(len, long)) / len(long), 1))
        for signature, key in (("serving_default", ""), ("tokenize", "tokenize_")):
            result["long_texts"].update(
                {key + k: v for k, v in time_signature(f"{signature} (long texts)",
                                                       model.signatures[signature], long,
                                                       dict(vars(args), batch_size=16), log).items()})
    for where in (result, result.get("long_texts")):
        if where:
            where["segmentation_share"] = dict(
                single_text_p50=round(where["tokenize_single_text_latency"]["p50_ms"]
                                      / where["single_text_latency"]["p50_ms"], 3),
                batch=round(where[f"batch_{args.batch_size if where is result else 16}_throughput"]
                            ["texts_per_second"]["median"]
                            / where[f"tokenize_batch_{args.batch_size if where is result else 16}"
                                    "_throughput"]["texts_per_second"]["median"], 3))

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
