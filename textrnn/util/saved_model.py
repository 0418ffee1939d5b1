"""The SavedModel's layout and TensorFlow Serving's folder of versions: the names the
export writes (training/export.py) and everything that serves reads (serving/).

    MODEL_DIR/export                               a model directory's own SavedModel
    EXPORT/saved_model.pb, variables/, assets/     what TensorFlow writes
    EXPORT/assets.extra/textrnn.json               what textrnn adds: tokenizer, labels,
                                                   members, version (read_info)
    BASE/1, BASE/2, ...                            served versions; a folder counts once
                                                   it holds saved_model.pb
"""

import os
import re

from textrnn.util import jsonfile

SAVED_MODEL_FILE = "saved_model.pb"
EXPORT_DIR = "export"  # where a model directory keeps its SavedModel (training/artifacts.py)
DEFAULT_SIGNATURE = "serving_default"  # raw text -> labels; `tokenize` is another
EXPLAIN_SIGNATURE = "explain"  # raw text -> each unit's share of the label's probability
# explain's outputs of one value a unit, padded past each row's `num_tokens`
UNIT_OUTPUTS = ("tokens", "token_starts", "token_ends", "attributions", "class_attributions")
EXTRA_DIR = "assets.extra"  # TF Serving's place for files the graph does not read
INFO_FILE = "textrnn.json"


def is_saved_model(path):
    return os.path.isfile(os.path.join(path, SAVED_MODEL_FILE))


def read_info(export_dir):
    """assets.extra/textrnn.json of an export."""
    return jsonfile.read(os.path.join(export_dir, EXTRA_DIR, INFO_FILE))


def version_dirs(base):
    """{version: folder} of the complete SavedModels under `base`."""
    found = {}
    for name in os.listdir(base) if os.path.isdir(base) else []:
        path = os.path.join(base, name)
        if re.fullmatch(r"[0-9]+", name) and is_saved_model(path):
            found[int(name)] = path
    return found


def next_version_dir(base):
    """The folder of the version after the highest one under `base` (BASE/1 at first)."""
    taken = [int(n) for n in (os.listdir(base) if os.path.isdir(base) else [])
             if re.fullmatch(r"[0-9]+", n)]
    return os.path.join(base, str(max(taken, default=0) + 1))
