"""The accuracy benchmarks run in quick mode and write their JSON (see test_benchmarks.py).

The two that train recurrent models end to end in subprocesses are marked bench (make
bench-quick runs them, make test does not): what they guard in the library, the
ensemble's export and a fit's scores, test_ensemble.py and test_classifier.py check in
process."""

import json

import pytest

from conftest import ROOT, run_python, shared_data
from test_benchmarks import run_quick


@pytest.mark.bench
def test_accuracy_scores_each_ensemble_through_its_saved_model(tmp_path):
    # an ensemble of two recipes of two tokenizers (words, characters): the smallest run
    # of the script's whole path
    report = run_quick("accuracy.py", tmp_path, "--recipes=thucnews_word_char")
    assert {"thucnews", "thucnews_char"} <= set(report["recipes"])
    assert set(report["ensembles"]) == {"thucnews_word_char"}
    for ensemble in report["ensembles"].values():
        assert all(0 <= run["test_accuracy"] <= 1 for run in ensemble["runs"])


@pytest.mark.bench
def test_peers_runs_in_quick_mode_and_resumes_without_training_again(tmp_path):
    # textrnn_vectors is the same fit with vectors, which test_vectors runs end to end
    runs = tmp_path / "runs"
    report = run_quick("peers.py", tmp_path, "--work_dir", runs,
                       "--systems=textrnn,tfidf_svm,tfidf_svm_refit,fasttext")
    (name, corpus), = report["corpora"].items()
    first = corpus["systems"]["textrnn"]["runs"][0]
    result = runs / f"{name}-textrnn-seed1" / "peers_result.json"
    trained_at = result.stat().st_mtime_ns
    again = run_quick("peers.py", tmp_path, "--work_dir", runs, "--systems=textrnn",
                      "--resume")
    assert again["corpora"][name]["systems"]["textrnn"]["runs"][0] == first
    assert result.stat().st_mtime_ns == trained_at  # scored from the finished run


def test_peers_resumes_only_runs_of_the_same_training_code(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import peers
    made = dict(test_accuracy=0.5, trained_with=peers.trained_with(False))
    (tmp_path / peers.RESULT).write_text(json.dumps(made), encoding="utf-8")
    assert peers.finished(str(tmp_path), quick=False) == made
    assert peers.finished(str(tmp_path), quick=True) is None
    monkeypatch.setattr(peers.common, "training_code", lambda: "another")
    assert peers.finished(str(tmp_path), quick=False) is None
    assert peers.finished(str(tmp_path / "absent"), quick=False) is None


def test_peers_update_keeps_what_it_does_not_rerun(tmp_path):
    """--update replaces only the systems it reruns; the other corpora, the table's
    command and the notes stay, also in the file written after each corpus."""
    shared_data("tnews")
    out = tmp_path / "peers.json"
    elsewhere = {"systems": {"tfidf_svm": {"test_accuracy": 0.5}}}
    out.write_text(json.dumps({"corpora": {"elsewhere": elsewhere}, "notes": ["by hand"],
                               "command": "python benchmarks/peers.py"}), encoding="utf-8")
    result = run_python("benchmarks/peers.py", "--quick", "--update", "--corpora=tnews",
                        "--systems=tfidf_svm", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["corpora"]["elsewhere"] == elsewhere and "tnews" in report["corpora"]
    assert report["command"] == "python benchmarks/peers.py" and report["notes"] == ["by hand"]


def test_peers_multilabel_runs_in_quick_mode(tmp_path):
    # textrnn's side is `make train MULTI_LABEL=1`, which test_multilabel runs end to end
    report = run_quick("peers_multilabel.py", tmp_path,
                       "--systems=tfidf_svm,tfidf_svm_top,fasttext")
    systems = report["cail2019_elements"]["systems"]  # those whose library is installed
    assert systems and set(systems) <= {"tfidf_svm", "tfidf_svm_top", "fasttext"}
    assert all(0 <= s["micro_f1"] <= 1 for s in systems.values())
