"""textrnn-train: learning, outputs, resume, reproducibility, flags."""

import json
import re
import shutil
import signal
import threading
import time

import pytest

import cli_client
from conftest import ROOT, TINY_MODEL, run_cli
from textrnn.training.config import TrainConfig
from textrnn.training.loop import train
from textrnn.util.errors import UserError

METRIC_KEYS = {"global_step", "val_accuracy", "val_loss", "test_accuracy", "test_loss",
               "best_val_accuracy", "best_step", "train_seconds", "examples_per_second"}


def tiny_flags(data_dir, model_dir, steps, **extra):
    values = {**TINY_MODEL, "num_train_steps": steps, **extra}
    values["num_lstm_nodes"] = ",".join(map(str, values["num_lstm_nodes"]))
    return [f"--data_dir={data_dir}", f"--model_dir={model_dir}"] + [
        f"--{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items()]


def test_short_training_learns_and_beats_chance(trained_model):
    _, metrics = trained_model
    assert metrics["test_accuracy"] > 0.4  # 10 classes: chance is 0.1
    assert metrics["val_loss"] < 2.0  # below ln(10) = 2.30, the loss of a uniform guess


def test_model_dir_holds_every_output(trained_model):
    model_dir, _ = trained_model
    for name in ("vocab.txt", "categories.txt", "manifest.json", "tokens.txt", "config.json",
                 "flags.txt", "metrics.json", "ckpt", "best", "logs/train", "logs/eval", "export"):
        assert (model_dir / name).exists(), name
    assert any(p.name.startswith("events.out") for p in (model_dir / "logs" / "eval").iterdir())


def test_metrics_json_has_the_documented_keys(trained_model):
    model_dir, metrics = trained_model
    on_disk = json.loads((model_dir / "metrics.json").read_text())
    assert METRIC_KEYS <= set(on_disk) and on_disk == metrics
    assert on_disk["global_step"] == 200 and on_disk["test_examples"] == 250


def test_evaluation_scores_every_example(trained_model):
    _, metrics = trained_model
    assert (metrics["val_examples"], metrics["test_examples"]) == (250, 250)


def test_same_seed_gives_the_same_metrics(demo_prepared, tmp_path):
    runs = []
    for name in ("a", "b"):
        runs.append(train(TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / name),
                                      **{**TINY_MODEL, "num_train_steps": 40, "eval_every_steps": 40},
                                      export=False, seed=5)))
    keys = ("val_accuracy", "val_loss", "test_accuracy", "test_loss")
    assert [runs[0][k] for k in keys] == [runs[1][k] for k in keys]


def test_a_run_batched_by_length_resumes_exactly_where_it_stopped(demo_prepared, tmp_path):
    """The bucketed stream's position is in the checkpoint too: 6 steps, then on to 12,
    end where 12 steps in one go end (no dropout, whose random state is not kept)."""
    def run(name, steps):
        return train(TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / name),
                                 **{**TINY_MODEL, "num_train_steps": steps,
                                    "eval_every_steps": 6, "checkpoint_every_steps": 6},
                                 bucket_by_length=True, keep_prob=1.0, export=False, seed=5))
    run("resumed", 6)
    keys = ("val_accuracy", "val_loss", "test_accuracy", "test_loss")
    resumed, straight = run("resumed", 12), run("straight", 12)
    assert resumed["global_step"] == 12 and [resumed[k] for k in keys] == [
        straight[k] for k in keys]
    with pytest.raises(UserError, match="--bucket_by_length needs --padding=mask"):
        TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / "o"),
                    bucket_by_length=True, padding="original", pooling="last").validate()


def test_rerun_of_a_finished_run_resumes_at_the_end(demo_prepared, tmp_path):
    cfg = TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / "m"),
                      **{**TINY_MODEL, "num_train_steps": 20, "eval_every_steps": 20}, export=False)
    first = train(cfg)
    second = train(cfg)
    assert second["global_step"] == first["global_step"] == 20
    assert second["test_accuracy"] == first["test_accuracy"]


def test_resuming_with_another_model_shape_is_refused(demo_prepared, tmp_path):
    common = {**TINY_MODEL, "num_train_steps": 10, "eval_every_steps": 10}
    train(TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / "m"), **common,
                      export=False))
    with pytest.raises(UserError, match=r"--num_lstm_nodes: \[32\] -> \[16\]"):
        train(TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / "m"),
                          **{**common, "num_lstm_nodes": (16,)}, export=False))


@pytest.mark.parametrize("flag, value, message", [
    ("num_train_steps", "0", "--num_train_steps must be at least 1"),
    ("batch_size", "-5", "--batch_size must be at least 1"),
    ("keep_prob", "0", "--keep_prob must be in"),
    ("num_word_threshold", "100000", "lower --num_word_threshold"),
])
def test_bad_flags_are_refused_with_what_to_change(demo_prepared, tmp_path, flag, value, message):
    result = run_cli("train", *tiny_flags(demo_prepared, tmp_path / "m", 10), f"--{flag}={value}")
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_data_dir_that_is_not_prepared_is_refused(tmp_path):
    result = run_cli("train", f"--data_dir={tmp_path}", f"--model_dir={tmp_path}/m")
    assert result.returncode != 0 and "not a textrnn-prepare output folder" in result.stderr


def test_sigkill_then_rerun_resumes_and_finishes_exactly(demo_prepared, tmp_path):
    model_dir = tmp_path / "m"
    flags = tiny_flags(demo_prepared, model_dir, 200, checkpoint_every_steps=20,
                       log_every_steps=20, eval_every_steps=200)
    process = cli_client.start(["textrnn.train", *flags], cwd=ROOT)
    threading.Thread(target=process.stderr.read, daemon=True).start()  # never a full pipe
    try:
        import tensorflow as tf
        deadline = time.monotonic() + 300
        # a checkpoint is whole once the manager's state file names it
        while time.monotonic() < deadline and not tf.train.latest_checkpoint(model_dir / "ckpt"):
            time.sleep(0.05)
        assert process.poll() is None, "training finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert not (model_dir / "metrics.json").exists()
    result = run_cli("train", *flags)
    assert result.returncode == 0, result.stderr[-2000:]
    resumed = re.search(r"resuming from step (\d+)", result.stderr)
    assert resumed and 0 < int(resumed.group(1)) < 200
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["global_step"] == 200
    assert (model_dir / "export" / "saved_model.pb").exists()


def signal_masks(pid):
    """The blocked, ignored and caught signal masks of each thread of process `pid` (what
    a failure needs to say when a signal was sent and nothing happened)."""
    import glob
    masks = set()
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            text = open(status, encoding="utf-8").read()
        except OSError:
            continue
        masks.add(" ".join(line.replace("\t", "") for line in text.splitlines()
                           if line.startswith(("SigBlk", "SigIgn", "SigCgt"))))
    return sorted(masks)


def stopped_with_sigterm(argv, marker):
    """Run `python -m argv...`, send SIGTERM once a stderr line contains `marker`;
    returns (exit code, stderr)."""
    process = cli_client.start(argv, cwd=ROOT)
    lines, seen = [], threading.Event()

    def read():
        for line in process.stderr:
            lines.append(line)
            if marker in line:
                seen.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        seen.wait(timeout=300)
        lines.append(f"(test: SIGTERM sent at {time.strftime('%H:%M:%S')}; the child's "
                     f"signals then: {signal_masks(process.pid)})\n")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, "".join(lines)


def test_sigterm_saves_a_checkpoint_before_exiting(demo_prepared, tmp_path):
    model_dir = tmp_path / "m"
    command = ["textrnn.train",
               *tiny_flags(demo_prepared, model_dir, 100000, checkpoint_every_steps=100000,
                           log_every_steps=10, eval_every_steps=100000)]
    returncode, stderr = stopped_with_sigterm(command, "step 10/")
    assert returncode == 130, stderr[-2000:]
    saved = re.search(r"interrupted at step (\d+)", stderr)
    assert saved and int(saved.group(1)) >= 10
    assert list((model_dir / "ckpt").glob(f"ckpt-{saved.group(1)}.index"))


def repeated_train(prepared, out, times):
    """A copy of a prepared folder whose train split is its own `times` over (the
    manifest's line count with it): more work for the wide path, the same vocabulary."""
    shutil.copytree(prepared, out)
    lines = (prepared / "train.txt").read_text(encoding="utf-8")
    (out / "train.txt").write_text(lines * times, encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["splits"]["train"]["lines"] *= times
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def test_sigterm_in_the_wide_path_keeps_the_recurrent_model_and_says_so(demo_prepared_char,
                                                                         tmp_path):
    model_dir = tmp_path / "m"
    # ten times the demo's train: the wide path's solves take long enough that the
    # signal lands in them, however busy the machine
    data = repeated_train(demo_prepared_char, tmp_path / "data", 10)
    command = ["textrnn.train", "--wide", "--nowide_words",
               *tiny_flags(data, model_dir, 20)]
    returncode, stderr = stopped_with_sigterm(command, "wide path: C=")
    assert returncode == 130, stderr[-2000:]
    assert "interrupted in the wide path: the recurrent model is saved" in stderr
    assert list((model_dir / "ckpt").glob("ckpt-20.index"))
    assert not (model_dir / "wide" / "wide.json").exists()  # a rerun trains it again


@pytest.mark.parametrize("precision, policy", [("bfloat16", "mixed_bfloat16"),
                                               ("float16", "mixed_float16")])
def test_mixed_precision_trains_with_float32_variables_and_loss(demo_prepared, tmp_path,
                                                                precision, policy):
    import keras
    from textrnn.training.trainer import Trainer
    cfg = TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / "m"),
                      **{**TINY_MODEL, "num_train_steps": 4}, mixed_precision=precision,
                      export=False)
    try:
        trainer = Trainer(cfg)
        assert trainer.policy == policy
        assert all(v.dtype == "float32" for v in trainer.model.weights)
        assert trainer.model.get_layer("fc1").compute_dtype == precision
        assert trainer.model.get_layer("fc2").compute_dtype == "float32"
        scaled = isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (precision == "float16")  # loss scaling for float16 only
        trainer.run_steps(4)
        loss, _ = trainer.take_train_metrics()
        assert 0 < loss < 10 and trainer.step == 4
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_jit_compile_trains_with_the_xla_compatible_lstm(demo_prepared, tmp_path):
    from textrnn.training.trainer import Trainer
    cfg = TrainConfig(data_dir=str(demo_prepared), model_dir=str(tmp_path / "m"),
                      **{**TINY_MODEL, "num_train_steps": 2}, jit_compile=True, export=False)
    trainer = Trainer(cfg)
    trainer.run_steps(2)
    assert trainer.step == 2 and 0 < trainer.take_train_metrics()[0] < 10


def test_tensorboard_gets_the_val_confusion_matrix_at_each_evaluation(trained_model):
    import tensorflow as tf
    model_dir, _ = trained_model
    steps = []
    for path in (model_dir / "logs" / "eval").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "val_confusion_matrix":
                    image = tf.make_ndarray(value.tensor)
                    assert image.shape[0] == 3 and image[2].startswith(b"\x89PNG")  # w, h, png
                    steps.append(event.step)
    assert steps == [100, 200], steps
