"""Every tool: --help explains every flag it defines."""

import dataclasses
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli
from textrnn.serving.source import ModelSource
from textrnn.text.formats import FileFormat
from textrnn.training.config import CONFIDENCE_FIELDS, TrainConfig

TOOLS = ["prepare", "train", "export", "predict", "evaluate", "import_tf1", "serve", "auditing",
         "select"]
COMMANDS = {"auditing": "audit"}  # the module's name where it is not the command's
# Flags generated from a settings dataclass (textrnn.util.settings), not written in the tool.
_names = lambda config, skip=(): [f.name for f in dataclasses.fields(config) if f.name not in skip]
GENERATED = {"train": _names(TrainConfig), "prepare": _names(FileFormat),
             "predict": _names(ModelSource) + _names(FileFormat, ("format", "label_column")),
             "evaluate": _names(ModelSource) + _names(FileFormat, ("format",)),
             "export": list(CONFIDENCE_FIELDS), "auditing": _names(FileFormat),
             "select": _names(ModelSource) + _names(FileFormat, ("format", "label_column"))}


def installed_help(tool):
    """`textrnn-TOOL --help` through the command pip installed (a wrapper script:
    absl's main module is then not the tool's module)."""
    name = COMMANDS.get(tool, tool).replace("_", "-")
    command = pathlib.Path(sys.executable).parent / f"textrnn-{name}"
    if not command.exists():
        pytest.skip(f"{command} is not installed (pip install -e . makes it)")
    return subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("how", ["module", "installed"])
@pytest.mark.parametrize("tool", TOOLS)
def test_help_lists_every_flag_with_help_text(tool, how):
    # absl exits 1 after --help, by its convention
    result = run_cli(tool, "--help") if how == "module" else installed_help(tool)
    listed = dict(re.findall(r"^\s+--(?:\[no\])?(\w+): (\S.*)$", result.stdout, re.M))
    defined = re.findall(r'flags\.DEFINE_\w+\(\s*"(\w+)"',
                         (ROOT / "textrnn" / f"{tool}.py").read_text(encoding="utf-8"))
    defined += GENERATED.get(tool, [])
    assert defined and sorted(listed) == sorted(defined)
    assert all(len(text) > 10 for text in listed.values())


def test_train_helpfull_shows_every_setting_with_its_default():
    result = run_cli("train", "--helpfull")
    blocks = re.split(r"^  --(?:\[no\])?(\w+):", result.stdout, flags=re.M)
    shown = {name: re.search(r"\(default: '?([^')]*)'?\)", text)
             for name, text in zip(blocks[1::2], blocks[2::2])}
    for field in dataclasses.fields(TrainConfig):
        default = field.metadata["default"]
        expected = ("true" if default is True else "false" if default is False
                    else ",".join(map(str, default)) if isinstance(default, tuple) else str(default))
        if default is None:  # absl shows no default for None: the flag is listed
            assert field.name in shown and shown[field.name] is None, field.name
        else:
            assert shown.get(field.name) and shown[field.name].group(1) == expected, field.name


@pytest.mark.parametrize("tool", TOOLS)
def test_unexpected_positional_arguments_or_missing_flags_fail_cleanly(tool, tmp_path):
    result = run_cli(tool, *(["--input_file=/nonexistent/x.txt"] if tool == "evaluate" else []),
                     *(["--model_dir", str(tmp_path)] if tool in ("predict", "evaluate", "export") else []))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    # ours, or absl's for a flag marked required
    absl_required = re.search(r"Flags parsing error:\s+flag --\w+=None", result.stderr)
    assert lines[-1].startswith("error: ") or absl_required, lines


def test_output_cut_short_by_the_reader_ends_without_a_traceback(trained_model):
    import subprocess
    import sys
    from conftest import DEMO, ROOT
    model_dir, _ = trained_model
    process = subprocess.Popen(
        [sys.executable, "-m", "textrnn.predict", f"--model_dir={model_dir}",
         f"--input_file={DEMO / 'test.txt'}", "--batch_size=1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()  # like `| head -1`: read one line, then go away
    process.stdout.close()
    _, stderr = process.communicate(timeout=300)
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr[-2000:]
    assert process.returncode == 141
