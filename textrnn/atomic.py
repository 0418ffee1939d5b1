"""Writing folders all at once: complete, or not at all.

Prepared data, exports and imported models are built in a temporary sibling
folder and renamed over the target only when complete, so a crash or a kill
never leaves a half-written folder where a reader would look, and the old
one stays usable until the new one is whole.
"""

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def replacing_dir(target):
    """Yield a temporary folder that replaces `target` as a whole on success."""
    target = os.path.abspath(target)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=parent)
    try:
        yield tmp
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(new, target):
    if not os.path.exists(target):
        os.rename(new, target)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=os.path.dirname(target))
    os.rename(target, os.path.join(old, "x"))
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)
