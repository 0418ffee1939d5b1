"""Which SavedModel a tool reads: the settings textrnn-predict and textrnn-evaluate
share, and the folder they name."""

import dataclasses

from textrnn.training import artifacts
from textrnn.util.saved_model import is_saved_model
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


def resolve_export(saved_model=None, model_dir=None):
    """The SavedModel folder from --saved_model or --model_dir (then MODEL_DIR/export)."""
    if bool(saved_model) == bool(model_dir):
        raise UserError("give exactly one of --saved_model and --model_dir")
    path = saved_model or artifacts.path(model_dir, artifacts.EXPORT_DIR)
    if not is_saved_model(path):
        hint = " (run textrnn-export first)" if model_dir else ""
        raise UserError(f"{path}: no SavedModel there{hint}")
    return path
