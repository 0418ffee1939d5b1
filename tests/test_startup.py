"""The tools start quietly: TensorFlow's CPU-machine noise is filtered, real errors are not."""

import pytest

from conftest import run_cli
from textrnn.util import startup

NOISE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795610811.156328    3831 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "E0000 00:00:1795611312.599059    5341 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
]
REAL_LINES = [
    "E0000 00:00:1795611312.599059    5341 op_kernel.cc:1840] OP_REQUIRES failed at "
    "lookup_table_op.cc: NOT_FOUND: vocab.txt",
    "W0000 00:00:1795611312.599059    5341 gpu_device.cc:2344] Cannot dlopen some GPU libraries.",
]


@pytest.mark.parametrize("line", NOISE_LINES)
def test_known_noise_is_filtered(line):
    assert startup.NOISE.search(line)


@pytest.mark.parametrize("line", REAL_LINES)
def test_real_errors_are_kept(line):
    assert not startup.NOISE.search(line)


@pytest.mark.parametrize("level", ["", "2"])  # unset, or a user asking for quiet
def test_predict_prints_nothing_but_its_answer(trained_model, level):
    model_dir, _ = trained_model
    result = run_cli("predict", f"--model_dir={model_dir}", stdin="国足主场两球击败对手\n",
                     env={"TF_CPP_MIN_LOG_LEVEL": level})
    assert result.returncode == 0, result.stderr
    noise = [line for line in result.stderr.splitlines() if startup.NOISE.search(line)]
    assert noise == [], noise
    assert len(result.stdout.splitlines()) == 1


def test_the_users_own_log_level_wins(trained_model):
    model_dir, _ = trained_model
    result = run_cli("predict", f"--model_dir={model_dir}", stdin="国足\n",
                     env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert result.returncode == 0, result.stderr
    if not startup.NOISE.search(result.stderr):
        pytest.skip("TensorFlow prints none of the known start-up lines on this machine")
    assert "cudart_stub" in result.stderr or "cuInit" in result.stderr
