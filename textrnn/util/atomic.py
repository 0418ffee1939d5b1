"""Writing folders all at once: complete, or not at all.

Prepared data, exports and imported models are built in a temporary sibling
folder and renamed over the target only when complete, so a crash or a kill
never leaves a half-written folder where a reader would look, and the old
one stays usable until the new one is whole. A process killed with SIGKILL
cannot clean up: the next run of a tool writing the same target removes such
leftovers (`.NAME.tmp-*`, `.NAME.old-*`) once they are older than
STALE_SECONDS, so a folder another process is still writing is left alone.
"""

import contextlib
import os
import shutil
import tempfile
import time

from textrnn.util.console import say

STALE_SECONDS = 600  # older than any export or prepare still writing (they touch files)


def _last_write(path):
    """Latest modification time of anything under path (a live writer keeps it fresh)."""
    latest = os.path.getmtime(path)
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                latest = max(latest, os.path.getmtime(os.path.join(folder, name)))
            except OSError:
                pass
    return latest


def remove_stale(target, now=None):
    """Remove leftovers of killed writers of target; returns how many were removed."""
    parent, base = os.path.split(os.path.abspath(target))
    now = time.time() if now is None else now
    prefixes = (f".{base}.tmp-", f".{base}.old-")
    removed = []
    for name in os.listdir(parent) if os.path.isdir(parent) else []:
        path = os.path.join(parent, name)
        if name.startswith(prefixes) and os.path.isdir(path):
            try:
                stale = now - _last_write(path) > STALE_SECONDS
            except OSError:
                continue
            if stale:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(name)
    if removed:
        say(f"removed {len(removed)} unfinished folder(s) left beside {target} by an "
            f"interrupted run: {', '.join(sorted(removed))}")
    return len(removed)


@contextlib.contextmanager
def replacing_dir(target):
    """Yield a temporary folder that replaces `target` as a whole on success."""
    target = os.path.abspath(target)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    remove_stale(target)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=parent)
    try:
        yield tmp
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def writing(path):
    """Yield a text stream (UTF-8) whose file replaces `path` only when it is complete."""
    from textrnn.util.errors import UserError
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    except OSError as error:
        raise UserError(f"{path}: cannot write here ({error.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _swap(new, target):
    if not os.path.exists(target):
        os.rename(new, target)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=os.path.dirname(target))
    os.rename(target, os.path.join(old, "x"))
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)
