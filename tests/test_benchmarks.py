"""The benchmark scripts run (quick mode, seconds each) and write their JSON."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT

SCRIPTS = {
    "accuracy.py": "recipes",
    "speed.py": "machine",
    "prepare_speed.py": "corpora",
    "serving.py": "single_text_latency",
    "memory.py": "results",
    "peers.py": "corpora",
    "segmenter_agreement.py": "sets",
}


@pytest.mark.parametrize("script, key", sorted(SCRIPTS.items()))
def test_benchmark_script_runs_in_quick_mode(tmp_path, script, key):
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, f"benchmarks/{script}", "--quick", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    if not out.exists():  # the script said why it skipped (no shared data)
        assert "skipped" in result.stderr
        return
    report = json.loads(out.read_text())
    assert key in report
    if script == "segmenter_agreement.py":
        assert report["differing"] == 0, report["sets"]
    if script == "accuracy.py":  # each ensemble scored through its exported SavedModel
        assert {"thucnews_ensemble", "cnews_ensemble"} <= set(report["ensembles"])
        for ensemble in report["ensembles"].values():
            assert all(0 <= run["test_accuracy"] <= 1 for run in ensemble["runs"])
