"""Every tool: --help explains every flag it defines."""

import re

import pytest

from conftest import ROOT, run_cli

TOOLS = ["prepare", "train", "export", "predict", "evaluate", "import_tf1"]


@pytest.mark.parametrize("tool", TOOLS)
def test_help_lists_every_flag_with_help_text(tool):
    result = run_cli(tool, "--help")  # absl exits 1 after --help, by its convention
    listed = dict(re.findall(r"^\s+--(?:\[no\])?(\w+): (\S.*)$", result.stdout, re.M))
    defined = re.findall(r'flags\.DEFINE_\w+\(\s*"(\w+)"',
                         (ROOT / "textrnn" / f"{tool}.py").read_text(encoding="utf-8"))
    assert defined and sorted(listed) == sorted(defined)
    assert all(len(text) > 10 for text in listed.values())


@pytest.mark.parametrize("tool", TOOLS)
def test_unexpected_positional_arguments_or_missing_flags_fail_cleanly(tool, tmp_path):
    result = run_cli(tool, *(["--input_file=/nonexistent/x.txt"] if tool == "evaluate" else []),
                     *(["--model_dir", str(tmp_path)] if tool in ("predict", "evaluate", "export") else []))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
