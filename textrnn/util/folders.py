"""Folders that live as long as an object, and folders carried as bytes (a pickled
TextClassifier carries its model directory)."""

import io
import os
import shutil
import tarfile
import tempfile
import weakref


def temporary(owner):
    """A fresh folder, removed when `owner` is garbage-collected (or at exit)."""
    path = tempfile.mkdtemp(prefix="textrnn-model-")
    weakref.finalize(owner, shutil.rmtree, path, ignore_errors=True)
    return path


def tar(folder, skip=()):
    """The folder's content as tar bytes, its top-level entries in `skip` left out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in sorted(os.listdir(folder)):
            if name not in skip:
                archive.add(os.path.join(folder, name), arcname=name)
    return buffer.getvalue()


def untar(data, folder):
    """Unpack tar() bytes into folder (no path may leave it)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        archive.extractall(folder, filter="data")
