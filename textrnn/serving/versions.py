"""Which SavedModel is served: one folder, or the highest version under a base path.

The base path has TensorFlow Serving's layout, numbered version folders
`BASE/1`, `BASE/2`, ... (util/saved_model.py names them; textrnn-export
--serving_base writes the next number). A version folder counts
once it holds saved_model.pb: writers create it complete, by a rename, so
a half-written export is never seen. Other names (the writer's temporary
`.3.tmp-...` folders) are ignored, as TensorFlow Serving ignores them.
"""

import os

from textrnn.util.console import say
from textrnn.util.errors import UserError
from textrnn.util.saved_model import DEFAULT_SIGNATURE, SAVED_MODEL_FILE, version_dirs

WARM_UP_TEXT = "预热"


def signature_defs(export_dir):
    """The SavedModel's signature_def map as TensorFlow Serving prints it (proto JSON)."""
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2
    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, SAVED_MODEL_FILE), "rb") as stream:
        saved.ParseFromString(stream.read())
    return {name: json_format.MessageToDict(signature, preserving_proto_field_name=True,
                                            always_print_fields_with_no_presence=True)
            for name, signature in saved.meta_graphs[0].signature_def.items()}


class ServedModel:
    """One loaded SavedModel version: its signatures and what each reads.

    Clients always send raw text; a model that reads jieba-cut text (its words
    were cut with the HMM) gets it cut here first, as textrnn-predict does.
    """

    def __init__(self, export_dir, version):
        from textrnn.serving.inference import Predictor
        self.export_dir, self.version = export_dir, version
        self.predictor = Predictor(export_dir)
        self.signatures = dict(self.predictor.signatures)
        self.inputs = {name: next(iter(fn.structured_input_signature[1]))
                       for name, fn in self.signatures.items()}  # what a request names
        self.signature_defs = signature_defs(export_dir)
        self.run(DEFAULT_SIGNATURE, [WARM_UP_TEXT])  # the first call is slow; not a client's

    def run(self, signature, texts):
        """{output name: numpy array [len(texts), ...]} of one signature on raw texts."""
        return self.predictor.run([self.predictor.model_input(t) for t in texts], signature,
                                  decode_labels=False)


class Versions:
    """The version being served, and newer ones picked up from a base path.

    With `folder`, that SavedModel is version 1 for as long as the service
    runs. With `base`, the highest version is served; `refresh()` (called
    from a thread, every poll) loads a newer one completely before it takes
    over, so no request fails in between; requests already running finish on
    the old one. A version that fails to load is reported once and skipped
    until its folder changes; the old version stays served.
    """

    def __init__(self, folder=None, base=None):
        assert bool(folder) != bool(base), "one of folder and base (serving/source.one_source)"
        self.base = base
        if base:
            found = version_dirs(base)
            if not found:
                raise UserError(f"{base}: no version folder with a SavedModel ({base}/1, "
                                f"{base}/2, ...); write one with textrnn-export "
                                f"--serving_base={base}")
            version = max(found)
            folder = found[version]
        else:
            version = 1
        self.current = ServedModel(folder, version)
        self._failed = None

    def get(self, version=None):
        """The ServedModel of `version` (default: the latest), or None."""
        served = self.current
        return served if version in (None, served.version) else None

    def refresh(self):
        """Load and serve a newer version under the base path if there is one."""
        if not self.base:
            return False
        found = version_dirs(self.base)
        if not found or max(found) == self.current.version:
            return False
        version = max(found)
        stamp = (version, os.path.getmtime(found[version]))
        if stamp == self._failed:
            return False
        try:
            served = ServedModel(found[version], version)
        except Exception as error:  # a broken version must not stop the one being served
            self._failed = stamp
            say(f"error: {found[version]}: cannot load this version ({error}); still serving "
                f"version {self.current.version}")
            return False
        old, self.current = self.current.version, served
        say(f"serving version {version} ({found[version]}); version {old} retired")
        return True
