"""The GPU path end to end, in one script of at most 8 minutes on one GPU.

    python benchmarks/gpu_check.py --out benchmarks/results/gpu_check.json

1. trains the headline word recipe (flags/thucnews.flags, jieba words) for
   --steps steps on the GPU, with cuDNN and --mixed_precision=float16, and
   exports it there (the training line says which kernels ran);
2. checks the export has no cuDNN-only op, and that a CPU-only process
   (CUDA_VISIBLE_DEVICES=-1) loading it gives the GPU process's
   probabilities within 1e-4;
3. serves it with textrnn-serve and checks the service answers the same;
4. times training against PyTorch's CUDA nn.LSTM (padded and packed) on
   identical batches, both in float16 mixed precision, interleaved rounds as
   benchmarks/speed.py does.

Without a GPU it says so and exits 0: it never reports a number it did not
measure. --data is a raw corpus folder (train/dev|val/test.txt); by default
../shared/data/thucnews_titles, else the shipped demo corpus.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

CPU_PROBABILITIES = """
import sys, numpy as np, tensorflow as tf
texts = open(sys.argv[2], encoding="utf-8").read().splitlines()
assert not tf.config.list_physical_devices("GPU")
out = tf.saved_model.load(sys.argv[1]).signatures["serving_default"](text=tf.constant(texts))
np.save(sys.argv[3], out["probabilities"].numpy())
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "gpu_check.json"))
    parser.add_argument("--data", default=None, help="raw corpus folder (default: the "
                        "shared headlines, else data/demo)")
    parser.add_argument("--steps", type=int, default=300, help="training steps on the GPU")
    parser.add_argument("--speed_batches", type=int, default=50,
                        help="batches per timed segment of the PyTorch comparison")
    parser.add_argument("--reps", type=int, default=3, help="timed rounds per contender")
    return parser.parse_args()


def gpu_names():
    import tensorflow as tf
    return [tf.config.experimental.get_device_details(g).get("device_name", g.name)
            for g in tf.config.list_physical_devices("GPU")]


def run(command, log, env=None, timeout=600):
    log("$ " + " ".join(command))
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    if done.returncode:
        raise RuntimeError(f"{command[2]} failed:\n{done.stderr[-3000:]}")
    return done


def train_on_gpu(data, workdir, steps, log):
    """Prepare, then train and export with cuDNN and float16; returns (model_dir, facts)."""
    paths = common.raw_paths(data)
    prepared, model_dir = os.path.join(workdir, "prepared"), os.path.join(workdir, "model")
    run([sys.executable, "-m", "textrnn.prepare", f"--train={paths['train']}",
         f"--val={paths['val']}", f"--test={paths['test']}", "--tokenizer=jieba",
         f"--out_dir={prepared}", "--progress_every=0"], log)
    started = time.perf_counter()
    done = run([sys.executable, "-m", "textrnn.train",
                f"--flagfile={os.path.join(common.ROOT, 'flags', 'thucnews.flags')}",
                "--mixed_precision=float16", f"--num_train_steps={steps}",
                f"--eval_every_steps={steps}", f"--checkpoint_every_steps={steps}",
                f"--data_dir={prepared}", f"--model_dir={model_dir}"], log)
    where = next((l for l in done.stderr.splitlines() if "training on" in l), "")
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return prepared, model_dir, dict(seconds=round(time.perf_counter() - started, 1),
                                     devices_line=where.split("] ", 1)[-1], last_line=last)


def cudnn_ops(export_dir):
    from tensorflow.core.protobuf import saved_model_pb2
    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as stream:
        saved.ParseFromString(stream.read())
    graph = saved.meta_graphs[0].graph_def
    ops = {n.op for n in graph.node} | {n.op for f in graph.library.function for n in f.node_def}
    return sorted(op for op in ops if op.startswith("Cudnn"))


def check_cpu_process(export_dir, texts, workdir, log):
    """Max |p_gpu - p_cpu| between this process's and a CPU-only process's probabilities."""
    import numpy as np
    import tensorflow as tf
    gpu = tf.saved_model.load(export_dir).signatures["serving_default"](
        text=tf.constant(texts))["probabilities"].numpy()
    texts_file, cpu_file = os.path.join(workdir, "texts.txt"), os.path.join(workdir, "cpu.npy")
    with open(texts_file, "w", encoding="utf-8") as stream:
        stream.write("\n".join(texts))
    run([sys.executable, "-c", CPU_PROBABILITIES, export_dir, texts_file, cpu_file], log,
        env={"CUDA_VISIBLE_DEVICES": "-1"})
    return gpu, float(np.abs(np.load(cpu_file) - gpu).max())


def check_service(export_dir, texts, gpu_probabilities, log):
    """Serve the export; (max |p_service - p_gpu|, start-up seconds)."""
    import numpy as np
    from benchmarks.serving_http import start_service
    process, port, startup = start_service(export_dir)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/models/textrnn:predict",
            data=json.dumps({"instances": texts}, ensure_ascii=False).encode("utf-8"))
        with urllib.request.urlopen(request, timeout=120) as response:
            served = [p["probabilities"] for p in json.loads(response.read())["predictions"]]
        log(f"served {len(served)} texts from a service started in {startup:.1f}s")
        return float(np.abs(np.array(served) - gpu_probabilities).max()), round(startup, 2)
    finally:
        process.terminate()
        process.wait(timeout=60)


def time_against_torch(prepared, workdir, args, log):
    """textrnn's Trainer against PyTorch CUDA nn.LSTM on the same batches, float16 both."""
    from benchmarks import speed
    from textrnn.training.config import TrainConfig
    from textrnn.training.trainer import Trainer
    try:
        import torch
    except ImportError:
        return dict(skipped="torch is not installed")
    if not torch.cuda.is_available():
        return dict(skipped="torch sees no GPU")
    sizes = speed.read_flagfile_sizes(speed.TUNED_FLAGS)
    cfg = TrainConfig(data_dir=prepared, model_dir=tempfile.mkdtemp(dir=workdir), export=False,
                      seed=1, mixed_precision="float16", **sizes)
    cfg.validate()
    trainer = Trainer(cfg)
    batches = speed.draw_batches(trainer, args.speed_batches)
    speed.use_batches(trainer, batches)
    vocab_size, num_classes = speed.vocab_and_classes(trainer)
    contenders = {"textrnn": speed.tf_runner(trainer, args.speed_batches)}
    for variant in ("padded", "packed"):
        contenders[f"torch_{variant}"] = speed.torch_runner(
            torch, batches, vocab_size, num_classes, sizes, packed=variant == "packed",
            device="cuda", float16=True)
    examples = args.speed_batches * sizes["batch_size"]
    warmup, rates = speed.interleaved(contenders, examples, args.reps, log)
    return dict(sizes={**sizes, "num_lstm_nodes": list(sizes["num_lstm_nodes"])},
                batches_per_segment=args.speed_batches, warmup_seconds=warmup,
                examples_per_second={n: common.summary(r) for n, r in rates.items()},
                ratios=speed.compare(rates, ["textrnn"], ["torch_padded", "torch_packed"]))


def main():
    args = parse_args()
    start, log = common.timed_log()
    # this process, the training run, the CPU check and the service share one GPU:
    # each takes memory as it needs it rather than all of it at its first op
    os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    from textrnn.util import startup
    startup.import_tensorflow()
    names = gpu_names()
    if not names:
        log("no GPU here: nothing was run or measured (run this on a machine with one)")
        return
    data = args.data or (common.HEADLINES_RAW if common.have_raw(common.HEADLINES_RAW)
                         else common.DEMO_RAW)
    workdir = tempfile.mkdtemp(prefix="textrnn-gpu-")
    result = dict(benchmark="GPU path: cuDNN float16 training, portable export, CPU reload, "
                            "serving, speed against PyTorch CUDA",
                  command=" ".join(["python"] + sys.argv), gpus=names,
                  data=common.portable(data), machine=common.machine_info())
    prepared, model_dir, result["training"] = train_on_gpu(data, workdir, args.steps, log)
    export_dir = os.path.join(model_dir, "export")
    result["export_cudnn_ops"] = cudnn_ops(export_dir)
    texts = [line.split("\t", 1)[1] for line in
             open(common.raw_paths(data)["test"], encoding="utf-8").read().splitlines()[:256]]
    gpu, result["cpu_process_max_abs_difference"] = check_cpu_process(export_dir, texts,
                                                                      workdir, log)
    result["service_max_abs_difference"], result["service_start_up_seconds"] = \
        check_service(export_dir, texts, gpu, log)
    result["speed"] = time_against_torch(prepared, workdir, args, log)
    result["passed"] = (not result["export_cudnn_ops"]
                        and result["cpu_process_max_abs_difference"] <= 1e-4
                        and result["service_max_abs_difference"] <= 1e-4)
    log(f"cuDNN ops in the export: {result['export_cudnn_ops'] or 'none'}; CPU process "
        f"differs by {result['cpu_process_max_abs_difference']:.2e}, the service by "
        f"{result['service_max_abs_difference']:.2e}: {'passed' if result['passed'] else 'FAILED'}")
    common.finish(result, start, args.out, log)
    if not result["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
