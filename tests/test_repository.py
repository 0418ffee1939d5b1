"""Tracked files are portable: no absolute paths of the machine that wrote them."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT

MACHINE_PATH = re.compile(r"(?<![\w.])(/work/|/home/[a-z]|/root/|/Users/|/tmp/)")


def tracked_files():
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    return [ROOT / p for p in listed if not p.startswith("tests/")]


def test_no_absolute_machine_paths_in_tracked_files():
    found = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = MACHINE_PATH.search(line)
            if match:
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert not found, "absolute machine paths (use paths relative to the repository):\n" + \
        "\n".join(found[:20])


def test_the_pattern_catches_what_it_must():
    assert MACHINE_PATH.search("--data_dir=/tmp/bench/x")
    assert MACHINE_PATH.search('"/work/shared/data"')
    assert not MACHINE_PATH.search("runs/bench/x ../shared/data $TMPDIR/x")
