"""The benchmarks of explanations and data run (quick mode) and write their JSON: a file
of its own, so that the test workers run it beside test_benchmarks.py."""

from conftest import ROOT
from test_benchmarks import run_quick


def test_explain_benchmark_scores_explanations_against_random_units(tmp_path, trained_model):
    report = run_quick("explain.py", tmp_path, f"--model_dir={trained_model[0]}",
                       f"--raw_dir={ROOT / 'data' / 'demo'}", f"--work_dir={tmp_path}")
    result = report["corpora"]["demo"]
    assert result["texts"] == 20 and result["speed"]["explain_over_predict"] > 0
    assert result["aopc"]["textrnn"] > result["aopc"]["random"], result["aopc"]
    assert result["subset"]["aopc"]["occlusion"] > result["aopc"]["random"]


def test_audit_benchmark_finds_planted_flips_and_every_copy(tmp_path):
    result = run_quick("audit.py", tmp_path)["corpora"]["waimai_10k"]
    assert result["runs"][0]["textrnn"]["f1"] > 0.3, result["runs"]
    assert result["copies"]["same label"]["found"] == result["copies"]["same label"]["copies"]


def test_selection_benchmark_draws_both_curves(tmp_path):
    runs = run_quick("selection.py", tmp_path)["corpora"]["waimai_10k"]["runs"]
    assert len(runs[0]["textrnn"]) == len(runs[0]["random"]) == 2
