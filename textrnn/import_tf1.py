"""`textrnn-import-tf1`: a checkpoint of the original TF1 graph -> a textrnn model directory.

    textrnn-import-tf1 --checkpoint=old/model.ckpt-10000 --vocab_file=old/vocab.txt \\
        --category_file=old/category.txt --model_dir=runs/imported

The import (textrnn.training.tf1_import) is faithful, defects included: the
result is a model directory like the ones textrnn-train writes, so
textrnn-export, textrnn-predict and textrnn-evaluate take it as it is.
"""

import os

from absl import flags

from textrnn.training import artifacts
from textrnn.training.tf1_import import import_checkpoint
from textrnn.util.errors import run_app


def define_flags():
    """Flags of textrnn-import-tf1."""
    flags.DEFINE_string("checkpoint", None, "Checkpoint prefix of the original TF1 graph, as "
                        "tf.train.Saver wrote it (e.g. model.ckpt-10000), or the folder holding "
                        "its 'checkpoint' state file (the latest one is taken).")
    flags.DEFINE_string("vocab_file", None, "The original's vocabulary: 'word<TAB>frequency' a "
                        "line, containing <UNK>.")
    flags.DEFINE_string("category_file", None, "The original's categories, one label a line; "
                        "class ids follow line order.")
    flags.DEFINE_integer("num_word_threshold", 10, "The frequency threshold the original loaded "
                         "--vocab_file with (it decides the ids, so it must be the original's).")
    flags.DEFINE_integer("num_timesteps", 50, "Tokens per text the original used; texts are "
                         "truncated and padded with <UNK> to exactly this many.")
    flags.DEFINE_string("model_dir", None, "The model directory to write. An earlier import "
                        "there is replaced; any other existing content is refused.")
    flags.mark_flags_as_required(["checkpoint", "vocab_file", "category_file", "model_dir"])


def main(argv):
    FLAGS = flags.FLAGS
    import_checkpoint(FLAGS.checkpoint, FLAGS.vocab_file, FLAGS.category_file, FLAGS.model_dir,
                      num_word_threshold=FLAGS.num_word_threshold,
                      num_timesteps=FLAGS.num_timesteps)
    with open(artifacts.path(FLAGS.model_dir, artifacts.FLAGS_FILE), "w", encoding="utf-8") as out:
        out.write(FLAGS.flags_into_string())
    print(f"model: {os.path.abspath(FLAGS.model_dir)}")
    print(f"SavedModel: {os.path.abspath(artifacts.path(FLAGS.model_dir, artifacts.EXPORT_DIR))}")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
