"""The benchmark scripts run (quick mode, seconds each) and write their JSON.

The accuracy benchmarks (accuracy.py, peers.py) are in test_benchmark_accuracy.py, those
of explanations and data (explain.py, audit.py, selection.py) in test_benchmark_trust.py:
files of their own let the test workers run them beside these.

memory.py and api_overhead.py train the default recipe end to end in subprocesses; they are
marked bench (make bench-quick runs them, make test does not): the wide path's sampling
bound they rely on is test_wide.py's, the API's model equal to the command's is
test_classifier.py's.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, run_python

SCRIPTS = {
    "speed.py": "machine",
    "prepare_speed.py": "corpora",
    "serving.py": "single_text_latency",
    "memory.py": "results",
    "segmenter_agreement.py": "sets",
    "vectors_pass.py": "ratio",
    "api_overhead.py": "same_accuracy",
}


def run_quick(script, tmp_path, *args):
    """The script's --quick report; the test is skipped when the script said why it
    skipped (no shared data)."""
    out = tmp_path / "out.json"
    result = run_python(f"benchmarks/{script}", "--quick", "--out", out, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    if not out.exists():
        assert "skipped" in result.stderr
        pytest.skip(f"benchmarks/{script}: {result.stderr.strip().splitlines()[-1]}")
    return json.loads(out.read_text())


HEAVY = {"memory.py", "api_overhead.py"}


@pytest.mark.parametrize("script, key", [
    pytest.param(script, key, marks=[pytest.mark.bench] if script in HEAVY else [])
    for script, key in sorted(SCRIPTS.items())])
def test_benchmark_script_runs_in_quick_mode(tmp_path, script, key, request):
    args = []
    if script == "serving.py":  # the session's trained model: the smallest that serves
        args = [f"--model_dir={request.getfixturevalue('trained_model')[0]}"]
    report = run_quick(script, tmp_path, *args)
    assert key in report
    if script == "memory.py":  # the default recipe end to end, its wide path on a sample
        assert report["results"][0]["auto_wide_every"] > 1
        assert 0 <= report["results"][0]["auto_test_accuracy"] <= 1
    if script == "api_overhead.py":  # the same model whichever way it was trained
        assert report["same_accuracy"] and report["same_predictions"], report["runs"]
    if script == "segmenter_agreement.py":
        assert report["differing"] == 0, report["sets"]


def test_serving_http_measures_the_service_beside_the_signature(tmp_path, trained_model):
    out = tmp_path / "out.json"
    result = run_python("benchmarks/serving_http.py", "--quick", "--out", out,
                        f"--saved_model={trained_model[0] / 'export'}")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [(r["clients"], r["texts_per_request"]) for r in report["runs"]] == [
        (c, n) for n in (1, 64) for c in (1, 8, 32)]
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in report["runs"])
    assert report["in_process"]["batch_256_texts_per_second"] > 0
    assert report["service"]["resident_mb"] > 0 and len(report["targets"]) == 5


def test_gpu_check_without_a_gpu_says_so_and_reports_nothing(tmp_path):
    out = tmp_path / "gpu.json"
    result = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no GPU here" in result.stderr and not out.exists()


def test_benchmarks_md_is_what_the_results_files_say(tmp_path):
    """BENCHMARKS.md is report.py's rendering of benchmarks/results: a number edited in
    one and not the other fails here."""
    page = tmp_path / "BENCHMARKS.md"
    result = run_python("benchmarks/report.py", "--results", ROOT / "benchmarks" / "results",
                        "--write", page)
    assert result.returncode == 0, result.stderr[-3000:]
    assert page.read_text(encoding="utf-8") == (ROOT / "BENCHMARKS.md").read_text(
        encoding="utf-8"), "regenerate it: python benchmarks/report.py --write BENCHMARKS.md"


def test_a_results_file_records_the_command_that_made_it(monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import common
    assert common.command_line("/x/benchmarks/peers.py", ["--seeds=1", "--quick"]) == (
        "python benchmarks/peers.py --seeds=1 --quick")
    monkeypatch.setattr(sys, "argv", ["peers.py", "--seeds=2"])
    assert common.command_line("peers.py", None) == "python benchmarks/peers.py --seeds=2"
    assert common.command_line("peers.py", []) == "python benchmarks/peers.py"
    assert common.command_line("/x/benchmarks/studies/pretrained.py", ["--seeds=1"]) == (
        "python benchmarks/studies/pretrained.py --seeds=1")


def test_results_files_shorten_whole_paths_only():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import common
    root = common.ROOT
    assert common.portable(f"--work_dir={root}/runs") == "--work_dir=runs"
    assert common.portable(root) == "."
    # a sibling keeps its whole name (its folder may still shorten, e.g. to $TMPDIR)
    assert common.portable(f"{root}_runs/x").endswith(f"{os.path.basename(root)}_runs/x")
