"""`textrnn-prepare`: labelled files -> tokenized splits, vocabulary, categories.

    textrnn-prepare --train=train.txt --val=val.txt --test=test.txt --out_dir=prepared
    textrnn-prepare --train=reviews.csv --encoding=gb18030 --out_dir=prepared   # split 80/10/10

The work is textrnn.text.prepare's; the folder's layout is in its docstring.
"""

from absl import flags

from textrnn.text import formats
from textrnn.text import prepare as preparing
from textrnn.text import tokenize
from textrnn.util import settings
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-prepare."""
    flags.DEFINE_string("train", None, "Training file: label<TAB>text a line, CSV, JSON Lines "
                        "or fastText lines (see --format). Given alone, it is split into "
                        "train, val and test (see --split).")
    flags.DEFINE_string("val", None, "Validation file, same layout as --train.")
    flags.DEFINE_string("test", None, "Test file, same layout as --train.")
    flags.DEFINE_string("out_dir", None, "Folder to write the prepared data to (replaced as "
                        "a whole).")
    settings.define_flags(formats.FileFormat)
    flags.DEFINE_string("split", "0.8,0.1,0.1", "With --train alone: the shares of train, "
                        "val and test it is cut into, within each class (a text's first "
                        "label), shuffled with --split_seed. The parts are written to "
                        "OUT_DIR/raw/ and the manifest records the split.")
    flags.DEFINE_integer("split_seed", 1, "Seed of the shuffle behind --split.")
    flags.DEFINE_string("corrections", None, "textrnn-audit's label_issues.tsv as you edited "
                        "it: each row's `suggested` is the text's new label, or DROP to "
                        "remove it; delete the rows to leave alone. Applied to the input "
                        "files' lines before the split; the counts are printed and kept in "
                        "the manifest.")
    flags.DEFINE_enum("tokenizer", "jieba", tokenize.TOKENIZERS,
                      "jieba: word segmentation (as the original); char: one token per character; "
                      "bigram: characters, and the model embeds each pair of adjacent ones.")
    flags.DEFINE_bool("multi_label", False, "Each text has one or more labels, separated by "
                      "--label_separator ('law|contract<TAB>text'; a list in JSON Lines; "
                      "several __label__s in fastText lines): the model gives every label "
                      "its own probability and a text all labels above their thresholds. "
                      "Recorded in the manifest; training and export follow it.")
    flags.DEFINE_string("label_separator", "|", "What separates the labels of a text with "
                        "--multi_label.")
    flags.DEFINE_string("user_dict", None, "Optional jieba user dictionary (jieba's format).")
    flags.DEFINE_bool("jieba_hmm", False, "Let jieba's HMM join characters it has no word for. "
                      "Off by default: the exported SavedModel then cuts raw text itself, "
                      "exactly as prepare did; a model prepared with the HMM exports a "
                      "SavedModel that takes text already cut by jieba (HMM on) instead.")
    flags.DEFINE_integer("num_workers", 0, "Processes that tokenize in parallel. 0: chosen from "
                         f"the input size: one below {preparing.PARALLEL_MIN_MB} MB of input "
                         "(starting workers costs more than they save there), every core "
                         "above it.")
    flags.DEFINE_bool("skip_bad_lines", False,
                      "Skip malformed lines (no TAB, empty label or text, bad UTF-8) of "
                      "label<TAB>text files and count them in the manifest, instead of "
                      "stopping at the first one.")
    flags.DEFINE_integer("progress_every", 20000,
                         "Report progress every this many lines, at most one line every "
                         f"{preparing.PROGRESS_SECONDS:g} s (0: never).")
    flags.mark_flags_as_required(["train", "out_dir"])


def main(argv):
    FLAGS = flags.FLAGS
    if FLAGS.num_workers < 0:
        raise UserError("--num_workers must be 0 (chosen from the input size) or more")
    paths = {name: FLAGS[name].value for name in preparing.SPLITS if FLAGS[name].value}
    alone = list(paths) == ["train"]
    if not alone and list(paths) != list(preparing.SPLITS):
        raise UserError("give --train, --val and --test, or --train alone to have it split "
                        "(--split)")
    for path in paths.values():
        preparing.corpus.check_readable(path)
    manifest = preparing.prepare(
        paths, FLAGS.out_dir, tokenizer=FLAGS.tokenizer, user_dict=FLAGS.user_dict,
        jieba_hmm=FLAGS.jieba_hmm,
        num_workers=FLAGS.num_workers or preparing.default_workers(paths),
        skip_bad_lines=FLAGS.skip_bad_lines, progress_every=FLAGS.progress_every,
        multi_label=FLAGS.multi_label, label_separator=FLAGS.label_separator,
        file_format=formats.FileFormat(**settings.values(formats.FileFormat, FLAGS)),
        split=formats.parse_split(FLAGS.split) if alone else None,
        split_seed=FLAGS.split_seed, corrections=FLAGS.corrections)
    print(summary(manifest, FLAGS.out_dir))


def summary(manifest, out_dir):
    """The one line textrnn-prepare ends with."""
    counts = ", ".join(f"{n} {manifest['splits'][n]['lines']:,}" for n in preparing.SPLITS)
    train = manifest["splits"]["train"]
    classes = (f"{manifest['num_classes']} labels, "
               f"{sum(train['labels'].values()) / train['lines']:.2f} a train text"
               if manifest["multi_label"] else f"{manifest['num_classes']} classes")
    return (f"prepared {out_dir}: {counts} lines; {classes}; "
            f"{manifest['distinct_tokens']:,} distinct tokens ({manifest['tokenizer']}) "
            f"in {manifest['seconds']:.1f}s")


def run():
    define_flags()
    run_app(main, tensorflow=False)  # prepare is pure Python: no TensorFlow start-up


if __name__ == "__main__":
    run()
