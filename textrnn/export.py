"""`textrnn-export`: write a model directory's best checkpoint as a SavedModel.

The SavedModel takes text and gives labels: its `serving_default` signature
maps `text` (a batch of strings, tokens separated by spaces; raw text for
char-tokenized models) to `probabilities`, `class_id` and `label`. The token
and label tables are assets inside it, looked up in the graph by the same
TokenEncoder training used, so serving needs TensorFlow and nothing else.

The export is written to a temporary sibling folder and renamed into place:
an interrupted export leaves the previous one intact.
"""

import os
import shutil

from absl import flags

import textrnn
from textrnn import artifacts, atomic
from textrnn.console import say
from textrnn.errors import UserError, run_app

def define_flags():
    """Flags of textrnn-export."""
    flags.DEFINE_string("model_dir", None, "A textrnn model directory (from textrnn-train or "
                        "textrnn-import-tf1).")
    flags.DEFINE_string("export_dir", None, "Where to write the SavedModel "
                        "(default: MODEL_DIR/export).")


def build_archive(model, token_encoder, label_encoder):
    """A keras.export.ExportArchive with the text-in, labels-out signature."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(token_encoder)
    archive.track(label_encoder)

    def serve(text):
        ids = token_encoder(text)
        logits = tf.cast(model(ids, training=False), tf.float32)
        probabilities = tf.nn.softmax(logits, axis=-1)
        class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
        return {"probabilities": probabilities, "class_id": class_id,
                "label": label_encoder.labels(class_id)}

    archive.add_endpoint("serving_default", serve,
                         input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    return archive


EXTRA_DIR = "assets.extra"  # TF Serving's place for files the graph does not read
INFO_FILE = "textrnn.json"


def _write_info(export_dir, model_dir, config):
    """assets.extra/textrnn.json: how raw text must be tokenized for this model.

    The graph only splits on whitespace (or into characters); word
    segmentation happens before it, so clients need the tokenizer's name and,
    for jieba, the user dictionary, which is copied alongside.
    """
    from textrnn import vocab
    extra = os.path.join(export_dir, EXTRA_DIR)
    os.makedirs(extra, exist_ok=True)
    user_dict = config.get("user_dict")
    if user_dict:
        if not os.path.isfile(user_dict):
            raise UserError(f"{user_dict}: the model's jieba user dictionary is missing; "
                            "the export needs it to tokenize like training did")
        shutil.copyfile(user_dict, os.path.join(extra, "user_dict.txt"))
    labels = vocab.Categories.load(artifacts.path(model_dir, vocab.CATEGORIES_FILE)).labels
    artifacts.write_json(os.path.join(extra, INFO_FILE), dict(
        tokenizer=config["tokenizer"], user_dict="user_dict.txt" if user_dict else None,
        labels=list(labels), encoder=config["encoder"], model=config["model"],
        textrnn_version=textrnn.__version__))


def write_atomically(archive, export_dir, finish=None):
    """archive.write_out into a temporary folder, then swap it into export_dir.

    `finish(tmp_dir)` may add files before the swap.
    """
    with atomic.replacing_dir(export_dir) as tmp:
        archive.write_out(tmp, verbose=False)
        if finish:
            finish(tmp)
    return os.path.abspath(export_dir)


def export_model(model_dir, export_dir=None):
    """Export model_dir's best checkpoint; returns the export path."""
    model, config, checkpoint = artifacts.load_model(model_dir)
    archive = build_archive(model, artifacts.token_encoder(model_dir, config),
                            artifacts.label_encoder(model_dir))
    path = write_atomically(archive, export_dir or artifacts.path(model_dir, artifacts.EXPORT_DIR),
                            finish=lambda tmp: _write_info(tmp, model_dir, config))
    say(f"exported {checkpoint} to {path}")
    return path


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not flags.FLAGS.model_dir:
        raise UserError("--model_dir is required")
    print(export_model(flags.FLAGS.model_dir, flags.FLAGS.export_dir))


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
