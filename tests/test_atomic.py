"""Folders written all at once, and the leftovers of killed writers cleaned up."""

import os
import time

import pytest

from conftest import demo_paths, run_cli
from textrnn.util import atomic


def leftover(parent, name, age_seconds):
    """A folder as a SIGKILLed writer leaves it, last written age_seconds ago."""
    path = parent / name
    (path / "sub").mkdir(parents=True)
    (path / "sub" / "part.bin").write_bytes(b"x")
    old = time.time() - age_seconds
    for p in (path, path / "sub", path / "sub" / "part.bin"):
        os.utime(p, (old, old))
    return path


def test_replacing_dir_removes_stale_leftovers_of_the_same_target_only(tmp_path, capsys):
    stale = leftover(tmp_path, ".export.tmp-abc", atomic.STALE_SECONDS + 60)
    stale_old = leftover(tmp_path, ".export.old-def", atomic.STALE_SECONDS + 60)
    live = leftover(tmp_path, ".export.tmp-live", 5)  # another process is still writing
    other = leftover(tmp_path, ".prepared.tmp-xyz", atomic.STALE_SECONDS + 60)
    with atomic.replacing_dir(tmp_path / "export") as tmp:
        (open(os.path.join(tmp, "done"), "w")).close()
    assert (tmp_path / "export" / "done").exists()
    assert not stale.exists() and not stale_old.exists()
    assert live.exists() and other.exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "removed 2 unfinished folder(s)" in err


def test_nothing_is_said_when_there_is_nothing_to_remove(tmp_path, capsys):
    with atomic.replacing_dir(tmp_path / "out"):
        pass
    assert capsys.readouterr().err == ""


def test_failed_write_leaves_no_temporary_folder(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic.replacing_dir(tmp_path / "out"):
            raise RuntimeError("killed")
    assert os.listdir(tmp_path) == []


def test_next_prepare_removes_what_a_killed_prepare_left(tmp_path):
    out = tmp_path / "prepared"
    stale = leftover(tmp_path, ".prepared.tmp-k1ll3d", atomic.STALE_SECONDS + 60)
    paths = demo_paths()
    result = run_cli("prepare", f"--train={paths['train']}", f"--val={paths['val']}",
                     f"--test={paths['test']}", "--tokenizer=char", f"--out_dir={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert not stale.exists() and (out / "train.txt").exists()
    assert "removed 1 unfinished folder(s) left beside" in result.stderr

