"""Training speed of textrnn against the same network in PyTorch, on the same batches.

    python benchmarks/speed.py --out benchmarks/results/speed.json [--quick]

What is compared, in one process, with both frameworks held to the same
intra-op / inter-op thread counts:

- textrnn: the real `textrnn.training.trainer.Trainer` (its compiled multi-step loop
  `_train_loop_fn`, Adam, global-norm clipping, dropout, masked stacked LSTM),
  with and without `--jit_compile`.
- PyTorch (embedding -> nn.LSTM(num_layers) -> last valid step / max pool ->
  Linear relu -> Linear), two ways: a padded nn.LSTM (the last valid step
  gathered afterwards) and pack_padded_sequence.

Both train on the same batches: K batches are drawn once from
`textrnn.features.data.train_dataset` (same ids, same padding, same lengths); every
timed segment runs each contender over exactly those K batches. Segments are
interleaved (A, B, C, D, then D, C, B, A, ...) to cancel drift on a shared
machine; ratios are taken within a round and summarised by their median.

Sections: training (original and tuned sizes), ablations (steps per call,
the real input pipeline, fixed-length padding, Keras model.fit), pipeline
(the input pipeline alone), onednn (child processes with
TF_ENABLE_ONEDNN_OPTS=0 / 1). --quick runs a seconds-long smoke version on
the shipped demo corpus.
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

ORIGINAL = dict(num_word_threshold=10, num_timesteps=50, num_embedding_size=16,
                num_lstm_nodes=(32, 32), bidirectional=False, num_fc_nodes=32, keep_prob=0.8,
                pooling="last", batch_size=100)
TUNED = dict(num_word_threshold=10, num_timesteps=32, num_embedding_size=128,
             num_lstm_nodes=(128, 128), bidirectional=True, num_fc_nodes=32, keep_prob=0.8,
             pooling="max", batch_size=128)
QUICK = dict(num_word_threshold=2, num_timesteps=20, num_embedding_size=8, num_lstm_nodes=(8,),
             bidirectional=False, num_fc_nodes=8, keep_prob=0.8, pooling="last", batch_size=16)
SIZE_FIELDS = tuple(ORIGINAL)
# Flags of a flagfile that change the work of a training step, besides sizes.
EXTRA_FIELDS = ("embedding_dropout", "label_smoothing", "initializer")
TUNED_FLAGS = os.path.join(common.ROOT, "flags", "thucnews.flags")
HEADLINES_PREPARED = os.path.join(common.ROOT, "runs", "bench", "thuc_char")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "speed.json"))
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run (CI)")
    parser.add_argument("--threads", type=int, default=2,
                        help="intra-op and inter-op threads of both frameworks")
    parser.add_argument("--reps", type=int, default=5, help="timed rounds per comparison")
    parser.add_argument("--sections", default="training,ablations,pipeline,onednn,omp")
    parser.add_argument("--data_dir", default=HEADLINES_PREPARED,
                        help="prepared headlines (char); prepared from the shared data if absent")
    parser.add_argument("--tuned_flags", default=TUNED_FLAGS,
                        help="flagfile whose sizes are the 'tuned' ones, if it exists")
    parser.add_argument("--omp_wait_policy", default="PASSIVE",
                        help="OMP_WAIT_POLICY for PyTorch's OpenMP threads when the environment "
                             "does not set it ('default': leave unset, libgomp spins). PASSIVE "
                             "because on a shared, oversubscribed machine spinning threads make "
                             "PyTorch 20-30x slower (see the omp_wait_policy section)")
    parser.add_argument("--sizes", default=None,
                        help="comma list of size sets for the training section (default: all: "
                             "original, tuned, tuned_flagfile if flags/thucnews.flags exists)")
    parser.add_argument("--no_jit", action="store_true",
                        help="training section without the XLA contender (its compiles are slow)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child_batches", type=int, default=100, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- set-up ----------------------------------------------------------------------

def configure_threads(threads, omp_wait_policy="default"):
    """Both frameworks get the same intra/inter-op pools, set before any op runs."""
    from textrnn.util import startup
    startup.command_environment()  # first: the commands' oneDNN default applies before TF loads
    import tensorflow as tf  # TF's CPU pools are Eigen's, not OpenMP: OMP_WAIT_POLICY is torch's
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    torch = None
    if omp_wait_policy != "default":
        os.environ.setdefault("OMP_WAIT_POLICY", omp_wait_policy)  # read when libgomp loads
    try:
        import torch
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    except ImportError:
        pass
    return torch


def read_flagfile_sizes(path):
    """Sizes from a textrnn-train flagfile, over the TrainConfig defaults."""
    from textrnn.training.config import TrainConfig
    defaults = {f: getattr(TrainConfig, f) for f in SIZE_FIELDS + EXTRA_FIELDS}
    values = dict(defaults)
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            line = line.strip()
            if not line.startswith("--") or "=" not in line:
                continue
            name, value = line[2:].split("=", 1)
            if name not in defaults:
                continue
            if name == "num_lstm_nodes":
                values[name] = tuple(int(v) for v in value.split(","))
            elif name == "bidirectional":
                values[name] = value.lower() in ("true", "1", "yes")
            elif name in ("pooling", "initializer"):
                values[name] = value
            elif name in ("keep_prob", "embedding_dropout", "label_smoothing"):
                values[name] = float(value)
            else:
                values[name] = int(value)
    return values


def make_trainer(data_dir, sizes, jit, workdir):
    """The real textrnn Trainer, in a throwaway model_dir."""
    from textrnn.training.config import TrainConfig
    from textrnn.training.trainer import Trainer
    cfg = TrainConfig(data_dir=data_dir, model_dir=tempfile.mkdtemp(dir=workdir),
                      jit_compile=jit, export=False, seed=1, **sizes)
    cfg.validate()
    return Trainer(cfg)


def draw_batches(trainer, count):
    """The first `count` batches of textrnn's training pipeline, as numpy arrays."""
    from textrnn.features import data
    cfg = trainer.cfg
    dataset = data.train_dataset(trainer.files["train"], trainer.token_encoder,
                                 trainer.label_encoder, cfg.batch_size, cfg.shuffle_buffer,
                                 seed=cfg.seed)
    return [(ids.numpy(), labels.numpy()) for ids, labels in dataset.take(count)]


def pad_batches(batches, width):
    import numpy as np
    return [(np.pad(ids, [(0, 0), (0, width - ids.shape[1])]), labels) for ids, labels in batches]


def batches_dataset(batches):
    """tf.data over exactly these batches, endlessly, each at its own width."""
    import numpy as np
    import tensorflow as tf
    width = max(ids.shape[1] for ids, _ in batches)
    ids = np.stack([np.pad(i, [(0, 0), (0, width - i.shape[1])]) for i, _ in batches])
    widths = np.array([i.shape[1] for i, _ in batches], np.int32)
    labels = np.stack([l for _, l in batches])
    return (tf.data.Dataset.from_tensor_slices((ids, widths, labels))
            .map(lambda i, w, l: (i[:, :w], l)).repeat().prefetch(tf.data.AUTOTUNE))


def use_batches(trainer, batches):
    """Point the Trainer's compiled loop at these batches (same element spec as its own)."""
    trainer.feed(lambda ctx: batches_dataset(batches))


# --- contenders: each is a callable running one pass over the K batches ----------

def tf_runner(trainer, k, steps_per_call=None):
    steps_per_call = steps_per_call or k

    def run():
        for _ in range(k // steps_per_call):
            trainer.run_steps(steps_per_call)
        _ = trainer.step  # reading the step counter waits for the work to be done
    return run


def keras_fit_runner(data_dir, sizes, batches, k, steps_per_execution=1):
    """Keras' own model.fit on the same model and batches, `steps_per_execution` steps
    per compiled call (k: as many as the Trainer's loop runs in one call)."""
    import keras
    from textrnn.training.recurrent.model import build_model
    from textrnn.training import artifacts
    from textrnn.training import checkpoints
    from textrnn.training.config import TrainConfig
    cfg = TrainConfig(data_dir=data_dir, model_dir=tempfile.mkdtemp(), export=False, **sizes)
    run_config, _ = checkpoints.prepare_model_dir(cfg, cfg.model_dir)
    model = build_model(artifacts.model_config(run_config))
    model.compile(optimizer=keras.optimizers.Adam(0.001, global_clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False,
                  steps_per_execution=steps_per_execution)
    dataset = batches_dataset(batches)

    def run():
        model.fit(dataset, steps_per_epoch=k, epochs=1, verbose=0)
    return run


def torch_model(torch, vocab_size, num_classes, sizes, packed):
    nn = torch.nn
    units = sizes["num_lstm_nodes"]
    if len(set(units)) != 1:
        raise ValueError("nn.LSTM(num_layers) needs equal layer sizes")
    dropout = 1.0 - sizes["keep_prob"]
    dirs = 2 if sizes["bidirectional"] else 1
    pooling = sizes["pooling"]
    if pooling not in ("last", "max"):
        raise ValueError(f"pooling {pooling} not mirrored in the PyTorch model")
    pack = torch.nn.utils.rnn.pack_padded_sequence
    unpack = torch.nn.utils.rnn.pad_packed_sequence

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, sizes["num_embedding_size"], padding_idx=0)
            self.lstm = nn.LSTM(sizes["num_embedding_size"], units[0], num_layers=len(units),
                                batch_first=True, bidirectional=dirs == 2,
                                dropout=dropout if len(units) > 1 else 0.0)
            self.dropout = nn.Dropout(dropout)
            # SpatialDropout1D: whole embedding channels, as textrnn's embedding_dropout
            self.embedding_dropout = nn.Dropout1d(sizes.get("embedding_dropout", 0.0))
            self.fc1 = nn.Linear(units[0] * dirs, sizes["num_fc_nodes"])
            self.fc2 = nn.Linear(sizes["num_fc_nodes"], num_classes)

        def forward(self, ids, lengths, mask):
            x = self.embedding(ids)
            if sizes.get("embedding_dropout"):
                x = self.embedding_dropout(x.transpose(1, 2)).transpose(1, 2)
            if packed:
                out, (h, _) = self.lstm(pack(x, lengths, batch_first=True, enforce_sorted=False))
                if pooling == "last":  # h_n: forward at the last valid step, backward at 0
                    feature = torch.cat(list(h[-dirs:]), dim=-1)
                else:
                    out, _ = unpack(out, batch_first=True, padding_value=-1e9)
                    feature = out.max(dim=1).values
            else:
                out, _ = self.lstm(x)
                if pooling == "last":
                    rows = torch.arange(ids.shape[0], device=ids.device)
                    last = out[rows, lengths - 1]
                    if dirs == 2:  # the backward direction ends at step 0
                        last = torch.cat([last[:, :units[0]], out[:, 0, units[0]:]], dim=-1)
                    feature = last
                else:
                    feature = out.masked_fill(~mask[..., None], -1e9).max(dim=1).values
            x = self.dropout(feature)
            x = self.dropout(torch.relu(self.fc1(x)))
            return self.fc2(x)

    return Net()


def torch_runner(torch, batches, vocab_size, num_classes, sizes, packed, seed=1, device="cpu",
                 float16=False):
    """One pass of PyTorch training over `batches`; on "cuda", `float16` is autocast
    with a gradient scaler (what --mixed_precision=float16 does for textrnn)."""
    torch.manual_seed(seed)
    model = torch_model(torch, vocab_size, num_classes, sizes, packed).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    params = list(model.parameters())
    tensors = []
    for ids, labels in batches:
        ids_t = torch.from_numpy(ids.astype("int64"))
        mask = ids_t != 0
        lengths = mask.sum(dim=1)  # pack_padded_sequence takes them on the CPU
        tensors.append((ids_t.to(device), lengths if packed else lengths.to(device),
                        mask.to(device), torch.from_numpy(labels.astype("int64")).to(device)))
    smoothing = sizes.get("label_smoothing", 0.0)
    scaler = torch.amp.GradScaler(device) if float16 else None

    def cross_entropy(logits, labels):
        return torch.nn.functional.cross_entropy(logits, labels, label_smoothing=smoothing)

    def run():
        for ids, lengths, mask, labels in tensors:
            optimizer.zero_grad(set_to_none=True)
            loss = cross_entropy(model(ids, lengths, mask), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()

    def run_float16():
        for ids, lengths, mask, labels in tensors:
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device, dtype=torch.float16):
                loss = cross_entropy(model(ids, lengths, mask), labels)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            scaler.step(optimizer)
            scaler.update()

    def run_and_wait():
        (run_float16 if float16 else run)()
        if device != "cpu":
            torch.cuda.synchronize()  # the timed pass ends when the GPU is done
    return run_and_wait if device != "cpu" or float16 else run


# --- measurement -----------------------------------------------------------------

def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def interleaved(contenders, examples, reps, log):
    """Warm each contender up (one pass), then `reps` rounds alternating direction.

    Returns ({name: warm-up seconds}, {name: [examples/s per round]}).
    """
    warmup, rates = {}, {name: [] for name in contenders}
    loads = []
    for name, run in contenders.items():
        warmup[name] = round(timed(run), 3)
        log(f"    warm-up {name}: {warmup[name]:.1f}s")
    names = list(contenders)
    for rep in range(reps):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            rates[name].append(examples / timed(contenders[name]))
        loads.append(common.load_average())
        log("    round %d: %s (load %s)" % (rep + 1, ", ".join(
            f"{n} {rates[n][-1]:,.0f}" for n in names), loads[-1]))
    interleaved.load_averages = loads
    return warmup, rates


def compare(rates, numerators, denominators):
    """Per-round ratios numerator/denominator, summarised."""
    ratios = {}
    for a in numerators:
        for b in denominators:
            if a in rates and b in rates:
                ratios[f"{a} / {b}"] = common.summary(
                    [x / y for x, y in zip(rates[a], rates[b])])
    return ratios


def vocab_and_classes(trainer):
    import json as json_lib
    config = json_lib.load(open(os.path.join(trainer.cfg.model_dir, "config.json"),
                                encoding="utf-8"))
    return config["model"]["vocab_size"], config["model"]["num_classes"]


def width_stats(batches):
    import numpy as np
    widths = [ids.shape[1] for ids, _ in batches]
    lengths = np.concatenate([(ids != 0).sum(axis=1) for ids, _ in batches])
    return dict(batch_widths_distinct=len(set(widths)), batch_width_min=min(widths),
                batch_width_max=max(widths), mean_valid_length=round(float(lengths.mean()), 2),
                padded_fraction=round(1 - float(lengths.sum()) / sum(
                    ids.size for ids, _ in batches), 4))


# --- sections --------------------------------------------------------------------

def section_training(args, torch, data_dir, sizes, k, log, workdir, jit_variants=(False, True),
                     torch_variants=("padded", "packed")):
    """textrnn Trainer (jit off / on) against PyTorch padded / packed, same batches."""
    names = {False: "textrnn", True: "textrnn_jit"}
    trainers = {names[j]: make_trainer(data_dir, sizes, j, workdir) for j in jit_variants}
    first = next(iter(trainers.values()))
    batches = draw_batches(first, k)
    for trainer in trainers.values():
        use_batches(trainer, batches)
    contenders = {name: tf_runner(t, k) for name, t in trainers.items()}
    vocab_size, num_classes = vocab_and_classes(first)
    if torch is not None:
        for variant in torch_variants:
            contenders[f"torch_{variant}"] = torch_runner(torch, batches, vocab_size, num_classes,
                                                          sizes, packed=variant == "packed")
    examples = k * sizes["batch_size"]
    warmup, rates = interleaved(contenders, examples, args.reps, log)
    return dict(
        sizes={**sizes, "num_lstm_nodes": list(sizes["num_lstm_nodes"])},
        vocab_size=vocab_size, num_classes=num_classes,
        batches_per_segment=k, examples_per_segment=examples, batches=width_stats(batches),
        params_textrnn=first.model.count_params(),
        warmup_seconds=warmup, load_average_per_round=interleaved.load_averages,
        examples_per_second={n: common.summary(r) for n, r in rates.items()},
        ratios=compare(rates, list(trainers), ["torch_padded", "torch_packed"]),
        torch_skipped=None if torch is not None else "torch is not installed",
    )


def section_ablations(args, torch, data_dir, sizes, k, log, workdir):
    """What moves textrnn's rate at one size: each variant against the same reference."""
    import tensorflow as tf
    trainer = make_trainer(data_dir, sizes, False, workdir)
    trainer_real = make_trainer(data_dir, sizes, False, workdir)  # keeps its own pipeline
    batches = draw_batches(trainer, k)
    fixed = pad_batches(batches, sizes["num_timesteps"])
    trainer_fixed = make_trainer(data_dir, sizes, False, workdir)
    trainer_fixed_jit = make_trainer(data_dir, sizes, True, workdir)
    use_batches(trainer, batches)
    use_batches(trainer_fixed, fixed)
    use_batches(trainer_fixed_jit, fixed)
    contenders = {
        "loop_K_steps_per_call": tf_runner(trainer, k),
        "loop_1_step_per_call": tf_runner(trainer, k, steps_per_call=1),
        "loop_10_steps_per_call": tf_runner(trainer, k, steps_per_call=10 if k % 10 == 0 else 1),
        "real_input_pipeline": tf_runner(trainer_real, k),
        "fixed_T_padding": tf_runner(trainer_fixed, k),
        "fixed_T_padding_jit": tf_runner(trainer_fixed_jit, k),
        "keras_fit_spe1": keras_fit_runner(data_dir, sizes, batches, k),
        "keras_fit_speK": keras_fit_runner(data_dir, sizes, batches, k, steps_per_execution=k),
    }
    vocab_size, num_classes = vocab_and_classes(trainer)
    if torch is not None:
        contenders["torch_padded"] = torch_runner(torch, batches, vocab_size, num_classes,
                                                  sizes, packed=False)
        contenders["torch_padded_fixed_T"] = torch_runner(torch, fixed, vocab_size, num_classes,
                                                          sizes, packed=False)
    examples = k * sizes["batch_size"]
    warmup, rates = interleaved(contenders, examples, args.reps, log)
    textrnn_names = [n for n in contenders if not n.startswith("torch")]
    ratios = compare(rates, textrnn_names, ["loop_K_steps_per_call"])
    ratios.update(compare(rates, textrnn_names, ["torch_padded"]))
    ratios.update(compare(rates, ["fixed_T_padding", "fixed_T_padding_jit"],
                          ["torch_padded_fixed_T"]))
    del tf
    return dict(sizes={**sizes, "num_lstm_nodes": list(sizes["num_lstm_nodes"])},
                batches_per_segment=k, batches=width_stats(batches), warmup_seconds=warmup,
                load_average_per_round=interleaved.load_averages,
                examples_per_second={n: common.summary(r) for n, r in rates.items()},
                ratios=ratios)


def section_pipeline(args, data_dir, sizes_by_name, log, workdir, training):
    """textrnn.features.data.train_dataset alone: examples/s of (ids, labels) batches."""
    from textrnn.features import data
    out = {}
    for name, sizes in sizes_by_name.items():
        trainer = make_trainer(data_dir, sizes, False, workdir)
        cfg = trainer.cfg
        n = 20 if args.quick else 400
        for cache in (False, True):
            dataset = data.train_dataset(trainer.files["train"], trainer.token_encoder,
                                         trainer.label_encoder, cfg.batch_size,
                                         cfg.shuffle_buffer, seed=cfg.seed, cache=cache)
            iterator = iter(dataset)
            for _ in range(n):  # warm-up; with cache, long enough to fill it on headlines
                next(iterator)
            rates = []
            for _ in range(args.reps):
                start = time.perf_counter()
                for _ in range(n):
                    next(iterator)
                rates.append(n * cfg.batch_size / (time.perf_counter() - start))
            key = f"{name}_cache" if cache else name
            out[key] = dict(batch_size=cfg.batch_size, num_timesteps=cfg.num_timesteps,
                            batches_per_rep=n, examples_per_second=common.summary(rates))
            train_rate = _best_textrnn_rate(training.get(name))
            if train_rate:
                out[key]["times_best_textrnn_training_rate"] = round(
                    common.summary(rates)["median"] / train_rate, 2)
            log(f"    pipeline {key}: {common.summary(rates)['median']:,.0f} examples/s")
    return out


def _best_textrnn_rate(result):
    if not result:
        return None
    rates = [v["median"] for k, v in result["examples_per_second"].items()
             if k.startswith("textrnn")]
    return max(rates) if rates else None


def run_child(args, log, env_changes, batches, reps, extra=()):
    """speed.py --child in a fresh process (env read at import), original sizes,
    textrnn (no jit) against torch_padded; returns its summary."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        path = tmp.name
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    command = [sys.executable, os.path.abspath(__file__), "--child=short", f"--out={path}",
               f"--threads={args.threads}", f"--reps={reps}", f"--data_dir={args.data_dir}",
               f"--child_batches={batches}", *extra]
    log(f"  child {env_changes} {' '.join(extra)}")
    subprocess.run(command, env=env, check=True)
    with open(path, encoding="utf-8") as stream:
        child = json.load(stream)
    os.unlink(path)
    rates = child["examples_per_second"]
    return dict(env=env_changes, options=list(extra), batches_per_segment=batches, reps=reps,
                textrnn=rates["textrnn"], torch_padded=rates.get("torch_padded"),
                ratio=child["ratios"].get("textrnn / torch_padded"),
                load_average_per_round=child["load_average_per_round"])


def section_onednn(args, log):
    """Children alternating TF_ENABLE_ONEDNN_OPTS=1 / 0 (read when TF loads)."""
    runs = [run_child(args, log, {"TF_ENABLE_ONEDNN_OPTS": setting}, 50, 2)
            for setting in ("1", "0")]
    return dict(sizes="original", runs=runs)


def section_omp_wait_policy(args, log):
    """PyTorch with libgomp's default (spinning) wait policy against PASSIVE."""
    runs = [run_child(args, log, {"OMP_WAIT_POLICY": None}, 10, 2, ["--omp_wait_policy=default"]),
            run_child(args, log, {"OMP_WAIT_POLICY": "PASSIVE"}, 10, 2)]
    return dict(sizes="original", runs=runs)


# --- main ------------------------------------------------------------------------

def main():
    args = parse_args()
    torch = configure_threads(args.threads, args.omp_wait_policy)
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")  # retracing notes: each Trainer traces its own loop
    start, log = common.timed_log()

    workdir = tempfile.mkdtemp(prefix="textrnn-speed-")
    if args.child == "short":
        result = section_training(args, torch, args.data_dir, ORIGINAL, args.child_batches, log,
                                  workdir, jit_variants=(False,), torch_variants=("padded",))
        common.write_json(args.out, result)
        return

    sections = set(args.sections.split(","))
    result = dict(
        benchmark="training speed: textrnn Trainer vs PyTorch nn.LSTM on identical batches",
        command=" ".join(["python"] + sys.argv),
        quick=args.quick,
        machine=common.machine_info(
            threads=dict(intra_op=args.threads, inter_op=args.threads),
            tf_intra_op=tf.config.threading.get_intra_op_parallelism_threads(),
            tf_inter_op=tf.config.threading.get_inter_op_parallelism_threads(),
            omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
            torch_threads=torch.get_num_threads() if torch else None,
            torch_interop_threads=torch.get_num_interop_threads() if torch else None),
        torch_skipped=None if torch else "torch is not installed (pip install torch==2.13.0); "
                                         "PyTorch contenders skipped",
    )
    if torch is None:
        log(result["torch_skipped"])

    if args.quick:
        data_dir = common.ensure_prepared(common.DEMO_RAW, os.path.join(workdir, "demo_char"),
                                          "char")
        sizes = {"quick": dict(QUICK)}
        ks = {"quick": 4}
        args.reps = min(args.reps, 2)
        result["data"] = dict(corpus="data/demo (shipped)", tokenizer="char", prepared=data_dir)
    else:
        if not common.have_raw(common.HEADLINES_RAW) and not os.path.isfile(
                os.path.join(args.data_dir, "manifest.json")):
            log(f"skipped: {common.HEADLINES_RAW} is absent (the shared THUCNews headlines); "
                "nothing measured. Use --quick for the demo-corpus smoke run.")
            result["skipped"] = f"{common.HEADLINES_RAW} absent"
            common.write_json(args.out, result)
            return
        data_dir = (common.ensure_prepared(common.HEADLINES_RAW, args.data_dir, "char")
                    if common.have_raw(common.HEADLINES_RAW) else args.data_dir)
        sizes = {"original": dict(ORIGINAL), "tuned": dict(TUNED)}
        ks = {"original": 100, "tuned": 16}
        result["tuned_sizes_from"] = {
            "tuned": "brief: emb 128, 2-layer bidirectional LSTM 128, T=32, batch 128, max pooling"}
        if os.path.isfile(args.tuned_flags):
            sizes["tuned_flagfile"] = read_flagfile_sizes(args.tuned_flags)
            ks["tuned_flagfile"] = 32 if sizes["tuned_flagfile"]["batch_size"] <= 64 else 16
            result["tuned_sizes_from"]["tuned_flagfile"] = os.path.relpath(args.tuned_flags,
                                                                           common.ROOT)
        result["data"] = dict(corpus="THUCNews headlines (thucnews_titles)", tokenizer="char",
                              prepared=data_dir)

    result["training"] = {}
    if "training" in sections:
        for name, size in sizes.items():
            if args.sizes and name not in args.sizes.split(","):
                continue
            log(f"training comparison, {name} sizes: {size}")
            result["training"][name] = section_training(
                args, torch, data_dir, size, ks[name], log, workdir,
                jit_variants=(False,) if args.quick or args.no_jit else (False, True))
            common.write_json(args.out, result)
    if args.quick:  # seconds-long smoke run: no XLA compiles, no child processes
        sections -= {"ablations", "onednn", "omp"}
        result["skipped_in_quick"] = ["ablations", "onednn", "omp", "textrnn_jit"]
    if "ablations" in sections:
        name = next(iter(sizes))
        log(f"ablations, {name} sizes")
        reps, args.reps = args.reps, min(args.reps, 3)
        result["ablations"] = {name: section_ablations(args, torch, data_dir, sizes[name],
                                                       ks[name], log, workdir)}
        args.reps = reps
        common.write_json(args.out, result)
    if "pipeline" in sections:
        log("input pipeline alone")
        result["pipeline"] = section_pipeline(args, data_dir, sizes, log, workdir,
                                              result["training"])
        common.write_json(args.out, result)
    if "onednn" in sections:
        log("oneDNN on/off (child processes)")
        result["onednn"] = section_onednn(args, log)
        common.write_json(args.out, result)
    if "omp" in sections and torch is not None:
        log("PyTorch OMP_WAIT_POLICY default vs PASSIVE (child processes)")
        result["omp_wait_policy"] = section_omp_wait_policy(args, log)
    common.finish(result, start, args.out, log)


if __name__ == "__main__":
    main()
