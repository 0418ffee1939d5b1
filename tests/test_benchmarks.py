"""The benchmark scripts run (quick mode, seconds each) and write their JSON."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, shared_data

SCRIPTS = {
    "accuracy.py": "recipes",
    "speed.py": "machine",
    "prepare_speed.py": "corpora",
    "serving.py": "single_text_latency",
    "memory.py": "results",
    "peers.py": "corpora",
    "segmenter_agreement.py": "sets",
}
# Smallest inputs that still run each script's whole path: the two main ensembles
# (five recipes) of accuracy.py, the session's trained model for serving.py.
ARGS = {"accuracy.py": ["--recipes=thucnews_ensemble,cnews_ensemble"]}


@pytest.mark.parametrize("script, key", sorted(SCRIPTS.items()))
def test_benchmark_script_runs_in_quick_mode(tmp_path, script, key, request):
    out = tmp_path / "out.json"
    args = ARGS.get(script, [])
    if script == "serving.py":
        args = [f"--model_dir={request.getfixturevalue('trained_model')[0]}"]
    result = subprocess.run([sys.executable, f"benchmarks/{script}", "--quick", "--out", str(out),
                             *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    if not out.exists():  # the script said why it skipped (no shared data)
        assert "skipped" in result.stderr
        return
    report = json.loads(out.read_text())
    assert key in report
    if script == "memory.py":  # the default recipe end to end, its wide path on a sample
        assert report["results"][0]["auto_wide_every"] > 1
        assert 0 <= report["results"][0]["auto_test_accuracy"] <= 1
    if script == "segmenter_agreement.py":
        assert report["differing"] == 0, report["sets"]
    if script == "accuracy.py":  # each ensemble scored through its exported SavedModel
        assert {"thucnews_ensemble", "cnews_ensemble"} <= set(report["ensembles"])
        for ensemble in report["ensembles"].values():
            assert all(0 <= run["test_accuracy"] <= 1 for run in ensemble["runs"])


def test_serving_http_measures_the_service_beside_the_signature(tmp_path, trained_model):
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, "benchmarks/serving_http.py", "--quick", "--out",
                             str(out), f"--saved_model={trained_model[0] / 'export'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
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


def test_peers_update_keeps_what_it_does_not_rerun(tmp_path):
    """--update replaces only the systems it reruns; the other corpora, the table's
    command and the notes stay, also in the file written after each corpus."""
    shared_data("tnews")
    out = tmp_path / "peers.json"
    elsewhere = {"systems": {"tfidf_svm": {"test_accuracy": 0.5}}}
    out.write_text(json.dumps({"corpora": {"elsewhere": elsewhere}, "notes": ["by hand"],
                               "command": "python benchmarks/peers.py"}), encoding="utf-8")
    result = subprocess.run([sys.executable, "benchmarks/peers.py", "--quick", "--update",
                             "--corpora=tnews", "--systems=tfidf_svm", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["corpora"]["elsewhere"] == elsewhere and "tnews" in report["corpora"]
    assert report["command"] == "python benchmarks/peers.py" and report["notes"] == ["by hand"]
