"""Which SavedModel a tool reads: the settings textrnn-predict and textrnn-evaluate
share, and the folder they name."""

import dataclasses
import os

from textrnn.util.saved_model import EXPORT_DIR, is_saved_model
from textrnn.util.errors import UserError
from textrnn.util.settings import setting


@dataclasses.dataclass
class ModelSource:
    saved_model: str = setting(None, "An exported SavedModel folder.")
    model_dir: str = setting(None, "A textrnn model directory (uses MODEL_DIR/export).")
    batch_size: int = setting(256, "Texts run through the model at once.")

    def export_dir(self):
        if self.batch_size < 1:
            raise UserError("--batch_size must be at least 1")
        return resolve_export(self.saved_model, self.model_dir)


def one_source(**flags):
    """The name of the one flag of `flags` (name: value) that is set; a UserError naming
    them all when none or several are."""
    given = [name for name, value in flags.items() if value]
    if len(given) != 1:
        names = [f"--{name}" for name in flags]
        raise UserError(f"give exactly one of {', '.join(names[:-1])} and {names[-1]}")
    return given[0]


def resolve_export(saved_model=None, model_dir=None):
    """The SavedModel folder from --saved_model or --model_dir (then MODEL_DIR/export)."""
    one_source(saved_model=saved_model, model_dir=model_dir)
    path = saved_model or os.path.join(model_dir, EXPORT_DIR)
    if not is_saved_model(path):
        hint = " (run textrnn-export first)" if model_dir else ""
        raise UserError(f"{path}: no SavedModel there{hint}")
    return path
