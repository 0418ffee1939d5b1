"""`textrnn-export`: write a model directory's best checkpoint as a SavedModel.

What the SavedModel holds and how it is written: textrnn.training.export.
"""

from absl import flags

from textrnn.training.config import CONFIDENCE_FIELDS, TrainConfig
from textrnn.training.export import export_models
from textrnn.util import settings
from textrnn.util.errors import run_app


def define_flags():
    """Flags of textrnn-export."""
    flags.DEFINE_list("model_dir", None, "A textrnn model directory (from textrnn-train or "
                      "textrnn-import-tf1); several, comma-separated, export one SavedModel "
                      "averaging their probabilities (an ensemble; needs --export_dir).")
    flags.DEFINE_string("export_dir", None, "Where to write the SavedModel "
                        "(default: MODEL_DIR/export).")
    flags.DEFINE_string("serving_base", None, "Write the SavedModel as the next numbered "
                        "version under this folder (BASE/1, BASE/2, ...: TensorFlow Serving's "
                        "layout), for textrnn-serve --model_base_path=BASE; instead of "
                        "--export_dir.")
    settings.define_flags(TrainConfig, only=CONFIDENCE_FIELDS)
    flags.mark_flag_as_required("model_dir")


def main(argv):
    FLAGS = flags.FLAGS
    # given: they replace what training was given; left out: training's stay
    confidence = {name: FLAGS[name].value if FLAGS[name].present else None
                  for name in CONFIDENCE_FIELDS}
    print(export_models(FLAGS.model_dir, FLAGS.export_dir, FLAGS.serving_base, confidence))


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
