"""tf.distribute on CPU: mirrored over two logical devices, two workers on loopback."""

import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli

RUN = ["--flagfile=flags/demo.flags", "--num_train_steps=150", "--eval_every_steps=150"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def single_run(demo_prepared, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("single") / "m"
    result = run_cli("train", *RUN, f"--data_dir={demo_prepared}", f"--model_dir={model_dir}",
                     "--export=false")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((model_dir / "metrics.json").read_text())


def test_mirrored_over_two_cpu_devices_trains_like_one_device(demo_prepared, tmp_path, single_run):
    model_dir = tmp_path / "m"
    result = run_cli("train", *RUN, f"--data_dir={demo_prepared}", f"--model_dir={model_dir}",
                     "--strategy=mirrored", "--num_cpu_devices=2", "--export=false")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 replicas (MirroredStrategy)" in result.stderr
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["global_step"] == 150 and metrics["test_examples"] == 250
    assert abs(metrics["test_accuracy"] - single_run["test_accuracy"]) < 0.12


def test_two_workers_on_loopback_train_and_only_the_chief_writes(demo_prepared, tmp_path, single_run):
    model_dir = tmp_path / "m"
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    processes = []
    for index in (0, 1):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster,
                                                      "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "textrnn.train", *RUN, f"--data_dir={demo_prepared}",
             f"--model_dir={model_dir}", "--strategy=multi_worker"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=420))
    finally:
        for process in processes:  # reap both, whatever happened
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    assert "worker finished; the chief wrote the outputs" in outputs[1][0]
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["global_step"] == 150 and metrics["test_examples"] == 250
    assert (model_dir / "export" / "saved_model.pb").exists()
    assert abs(metrics["test_accuracy"] - single_run["test_accuracy"]) < 0.15
    leftovers = [p for p in model_dir.parent.iterdir() if p.name != "m"]
    assert not leftovers
