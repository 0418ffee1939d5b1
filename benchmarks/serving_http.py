"""textrnn-serve over loopback HTTP, beside the in-process signature, in one run.

    python benchmarks/serving_http.py --saved_model=E --title="..." \\
        --target_share=0.3 --out benchmarks/results/serving_http_X.json
    python benchmarks/serving_http.py --quick --out x.json   # a demo model, a few seconds

Measured, one after the other on the same machine:
1. in-process: tf.saved_model.load(E).signatures["serving_default"] on one
   text at a time (p50) and on batches of 256 texts (texts/s), as
   benchmarks/serving.py measures them;
2. the service: `textrnn-serve --saved_model=E` started as a subprocess on a
   free loopback port (start-up seconds until it serves, resident memory after
   the load), then 1, 8 and 32 concurrent clients, each sending its next
   request as soon as it has its answer (keep-alive connections), with one-text
   and 64-text `:predict` requests in row format, for --seconds each:
   requests and texts per second, p50/p99 latency, errors (any status but 200).

The clients (aiohttp, one asyncio loop) run in this process and share the
machine's cores with the service, as a client on the same host would.
Targets (--target_share: the share of the in-process batch-256 rate that 32
one-text clients must reach) are reported as met or not, never enforced.
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402
from benchmarks.serving import raw_texts, time_signature, train_demo_model  # noqa: E402

CLIENTS = (1, 8, 32)
REQUEST_TEXTS = (1, 64)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "serving_http.json"))
    parser.add_argument("--quick", action="store_true", help="a demo model, short runs (CI)")
    parser.add_argument("--saved_model", default=None, help="the SavedModel to serve")
    parser.add_argument("--title", default="a flags/demo.flags model", help="what is served")
    parser.add_argument("--texts", default=None, help="a labelled file whose texts are sent "
                        "(default: data/demo/test.txt)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each load run")
    parser.add_argument("--target_share", type=float, default=0.3,
                        help="32 one-text clients' target share of the in-process batch rate")
    parser.add_argument("--threads", type=int, default=2, help="TF threads, in-process")
    return parser.parse_args()


def in_process(export_dir, texts, quick, threads, log):
    """Single-text latency and batch-256 rate of the signature, as serving.py measures."""
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from textrnn.serving.inference import Predictor
    predictor = Predictor(export_dir)
    inputs = [predictor.model_input(t) for t in texts]
    timed = time_signature("in-process serving_default", predictor.signatures["serving_default"],
                           inputs, dict(quick=quick, batch_size=256), log)
    return dict(single_text_p50_ms=timed["single_text_latency"]["p50_ms"],
                batch_256_texts_per_second=timed["batch_256_throughput"]["texts_per_second"]
                ["median"])


def start_service(export_dir):
    """(process, port, start-up seconds) of textrnn-serve on a free loopback port."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "textrnn.serve", f"--saved_model={export_dir}",
                                "--port=0"], cwd=common.ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        found = re.search(r"at http://127\.0\.0\.1:(\d+)", line)
        if found:
            seconds = time.perf_counter() - started
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep draining
            return process, int(found.group(1)), seconds
    raise RuntimeError(f"textrnn-serve did not start (exit {process.wait()})")


def resident_mb(pid):
    """(resident, peak resident) memory of a process in MB, from /proc."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as stream:
        fields = dict(line.split(":", 1) for line in stream)
    return tuple(round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM"))


async def load(port, texts, clients, per_request, seconds):
    """Closed-loop load: `clients` connections, each sending its next request at once."""
    import aiohttp
    url = f"http://127.0.0.1:{port}/v1/models/textrnn:predict"
    bodies = [json.dumps({"instances": [texts[(i * per_request + j) % len(texts)]
                                        for j in range(per_request)]}, ensure_ascii=False).encode()
              for i in range(64)]
    latencies, errors = [], []
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def warm():
            async with session.post(url, data=bodies[0]) as response:
                await response.read()
        await asyncio.gather(*(warm() for _ in range(clients)))
        deadline = time.perf_counter() + seconds

        async def client(k):
            i = k
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(url, data=bodies[i % len(bodies)],
                                        headers={"Content-Type": "application/json"}) as response:
                    body = await response.read()
                    if response.status != 200 or len(json.loads(body)["predictions"]) != \
                            per_request:
                        errors.append(response.status)
                latencies.append((time.perf_counter() - started) * 1000)
                i += clients

        began = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        elapsed = time.perf_counter() - began
    return dict(clients=clients, texts_per_request=per_request, requests=len(latencies),
                requests_per_second=round(len(latencies) / elapsed, 1),
                texts_per_second=round(len(latencies) * per_request / elapsed, 1),
                p50_ms=round(common.percentile(latencies, 50), 3),
                p99_ms=round(common.percentile(latencies, 99), 3), errors=len(errors))


def targets(runs, reference, share):
    """The issue's targets, each with the measured value and whether it is met."""
    rate = reference["batch_256_texts_per_second"]
    by = {(r["clients"], r["texts_per_request"]): r for r in runs}
    lone, crowd = by[(1, 1)], by[(32, 1)]
    best_64 = max(r["texts_per_second"] for r in runs if r["texts_per_request"] == 64)
    checks = {
        "errors == 0": sum(r["errors"] for r in runs),
        "1 client, 1 text: p50 <= 5 ms": lone["p50_ms"],
        f"32 clients, 1 text: >= {share:.0%} of the in-process batch-256 rate":
            round(crowd["texts_per_second"] / rate, 3),
        "32 clients, 1 text: p99 <= 50 ms": crowd["p99_ms"],
        "64-text requests: >= 60% of the in-process batch-256 rate": round(best_64 / rate, 3),
    }
    limits = [lambda v: v == 0, lambda v: v <= 5, lambda v: v >= share, lambda v: v <= 50,
              lambda v: v >= 0.6]
    return {name: dict(measured=value, met=bool(ok(value)))
            for (name, value), ok in zip(checks.items(), limits)}


def main():
    args = parse_args()
    start, log = common.timed_log()
    from textrnn.util import startup
    startup.import_tensorflow()
    commands, export_dir = [], args.saved_model
    if not export_dir:
        model_dir, commands = train_demo_model(tempfile.mkdtemp(prefix="textrnn-http-"),
                                               args.quick, log)
        export_dir = os.path.join(model_dir, "export")
    seconds = 0.5 if args.quick else args.seconds
    texts = raw_texts(args.texts)[:2000]
    result = dict(benchmark="textrnn-serve over loopback HTTP beside the in-process signature",
                  command=" ".join(["python"] + sys.argv), quick=args.quick, title=args.title,
                  saved_model=common.portable(export_dir), model_commands=commands,
                  machine=common.machine_info(), seconds_per_run=seconds,
                  texts=dict(source=common.portable(args.texts or "data/demo/test.txt"),
                             count=len(texts)))
    result["in_process"] = in_process(export_dir, texts, args.quick, args.threads, log)
    process, port, startup = start_service(export_dir)
    try:
        result["service"] = dict(start_up_seconds=round(startup, 2))
        runs = []
        for per_request in REQUEST_TEXTS:
            for clients in CLIENTS:
                run = asyncio.run(load(port, texts, clients, per_request, seconds))
                log(f"{clients} clients x {per_request} texts: {run['texts_per_second']:,.0f} "
                    f"texts/s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                    f"{run['errors']} errors")
                runs.append(run)
        result["service"]["resident_mb"], result["service"]["peak_resident_mb"] = \
            resident_mb(process.pid)
        result["runs"] = runs
        result["targets"] = targets(runs, result["in_process"], args.target_share)
    finally:
        process.terminate()
        process.wait(timeout=60)
    common.finish(result, start, args.out, log)


if __name__ == "__main__":
    main()
