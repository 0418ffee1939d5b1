"""`textrnn-select`: the texts of an unlabelled pool to label next.

    textrnn-select --model_dir=runs/reviews --pool=unlabelled.txt --k=500 --out=to_label.tsv

The choice is textrnn.curation.selection's (`clf.select` from Python): the texts the
model is least sure of, spread over the labels it guesses, a share with vocabulary it
has never seen, no two alike. to_label.tsv (or .jsonl) imports into Label Studio and
doccano as it is.
"""

from absl import flags

from textrnn.predict import input_texts
from textrnn.serving.source import ModelSource
from textrnn.text import formats
from textrnn.util import settings
from textrnn.util.console import say
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-select."""
    settings.define_flags(ModelSource)
    flags.DEFINE_string("pool", None, "The unlabelled texts: one a line, or the text column "
                        "of a CSV or JSON Lines file (see --input_format).")
    flags.DEFINE_enum("input_format", "auto", formats.FORMATS, "Layout of --pool (see "
                      "textrnn-predict --help).")
    settings.define_flags(formats.FileFormat, skip=("format", "label_column"))
    flags.DEFINE_integer("k", 500, "How many texts to choose.")
    flags.DEFINE_string("out", None, "Where to write them: .tsv (text, guess, probability, "
                        "why) or .jsonl, for Label Studio or doccano.")
    flags.DEFINE_float("unknown_share", 0.1, "The share of --k given to the texts with the "
                       "most vocabulary the model has not seen.")
    flags.DEFINE_float("near_threshold", 0.8, "No chosen text has a character-bigram Jaccard "
                       "similarity of this or more with another (see textrnn-audit --help).")
    flags.mark_flags_as_required(["pool", "out"])


def main(argv):
    FLAGS = flags.FLAGS
    if FLAGS.k < 1 or not 0.0 <= FLAGS.unknown_share <= 1.0:
        raise UserError("--k must be at least 1 and --unknown_share between 0 and 1")
    from textrnn.curation import selection
    from textrnn.serving.inference import Predictor
    source = ModelSource(**settings.values(ModelSource, FLAGS))
    file_format = formats.FileFormat(format=FLAGS.input_format, **settings.values(
        formats.FileFormat, FLAGS, skip=("format", "label_column")))
    chosen = selection.select(Predictor(source.export_dir()),
                              input_texts([], FLAGS.pool, file_format), FLAGS.k,
                              source.batch_size, unknown_share=FLAGS.unknown_share,
                              near_threshold=FLAGS.near_threshold)
    selection.write(chosen, FLAGS.out)
    unknown = sum(c.why.startswith("unknown") for c in chosen)
    say(f"chose {len(chosen):,} texts ({unknown:,} for their unknown vocabulary) into "
        f"{FLAGS.out}")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
