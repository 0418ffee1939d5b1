"""The benchmarks of explanations and data run (quick mode) and write their JSON.

Marked bench (make bench-quick runs them, make test does not): what they rely on is
checked in process by test_explain.py (deleting the top units lowers the probability
more than random ones) and test_audit.py (planted flips found first, every copy found,
the selection's diversity)."""

import importlib.util

import pytest

from conftest import ROOT
from test_benchmarks import run_quick


@pytest.mark.bench
def test_explain_benchmark_scores_explanations_against_random_units(tmp_path, trained_model):
    report = run_quick("explain.py", tmp_path, f"--model_dir={trained_model[0]}",
                       f"--raw_dir={ROOT / 'data' / 'demo'}", f"--work_dir={tmp_path}")
    result = report["corpora"]["demo"]
    assert result["texts"] == 20 and result["speed"]["explain_over_predict"] > 0
    assert result["aopc"]["textrnn"] > result["aopc"]["random"], result["aopc"]
    assert result["subset"]["aopc"]["occlusion"] > result["aopc"]["random"]


@pytest.mark.bench
def test_audit_benchmark_finds_planted_flips_and_every_copy(tmp_path):
    result = run_quick("audit.py", tmp_path)["corpora"]["waimai_10k"]
    assert result["runs"][0]["textrnn"]["f1"] > 0.3, result["runs"]
    assert result["copies"]["same label"]["found"] == result["copies"]["same label"]["copies"]


@pytest.mark.bench
def test_selection_benchmark_draws_both_curves(tmp_path):
    runs = run_quick("selection.py", tmp_path)["corpora"]["waimai_10k"]["runs"]
    assert len(runs[0]["textrnn"]) == len(runs[0]["random"]) == 2
    if importlib.util.find_spec("small_text"):  # the peer, with the bench extra
        assert len(runs[0]["small_text"]) == 2
