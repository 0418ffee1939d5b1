"""`textrnn-audit`: duplicates, leaks and probably wrong labels of a labelled corpus.

    textrnn-audit --train=train.txt --val=val.txt --test=test.txt --out_dir=runs/audit
    textrnn-audit --train=reviews.csv --encoding=gb18030 --out_dir=runs/audit

Writes OUT_DIR/duplicates.tsv, label_issues.tsv and report.json and prints a summary;
the work is textrnn.curation.audit's (`textrnn.audit` from Python). Edit
label_issues.tsv's `suggested` column (a label, or DROP; delete the rows to leave
alone) and give it to `textrnn-prepare --corrections`. (The module is not named
audit.py so that `textrnn.audit` stays the function.)
"""

from absl import flags

from textrnn.text import formats
from textrnn.util import settings
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-audit."""
    flags.DEFINE_string("train", None, "Training file: label<TAB>text a line, CSV, JSON Lines "
                        "or fastText lines (see --format), as textrnn-prepare reads them.")
    flags.DEFINE_string("val", None, "Validation file, same layout as --train.")
    flags.DEFINE_string("test", None, "Test file, same layout as --train: searched for "
                        "duplicates and leaks, not for label issues unless --audit_test.")
    flags.DEFINE_string("out_dir", None, "Folder for duplicates.tsv, label_issues.tsv and "
                        "report.json.")
    settings.define_flags(formats.FileFormat)
    flags.DEFINE_integer("folds", 5, "Folds of the cross-fitting behind the label issues: "
                         "each text is scored by a model trained on the other folds. Classes "
                         "with fewer texts are named and not checked.")
    flags.DEFINE_integer("seed", 1, "Seed of the folds and of the models' training.")
    flags.DEFINE_float("near_threshold", 0.8, "Two texts of 8 characters or more are "
                       "near-duplicates when their character-bigram sets have at least this "
                       "Jaccard similarity (after NFKC and without whitespace).")
    flags.DEFINE_bool("label_issues", True, "Search for probably wrong labels (needs "
                      "cleanlab: pip install 'textrnn[audit]'); --nolabel_issues reports "
                      "duplicates and leaks only, in seconds.")
    flags.DEFINE_enum("model", "wide", ["wide", "recipe"], "What the cross-fitting trains: "
                      "'wide', the default recipe's wide path (TF-IDF n-grams and a linear "
                      "SVM; seconds a fold); 'recipe', the whole default recipe as "
                      "textrnn-train --recipe=auto trains it (the recurrent model too, val "
                      "held out of each fold's training texts; minutes a fold on a CPU, "
                      "for corpora of a few thousand texts).")
    flags.DEFINE_bool("wide_words", True, "Jieba words beside the character n-grams in the "
                      "cross-fitted models, as the default recipe's wide path.")
    flags.DEFINE_bool("audit_test", False, "Also search test for label issues. Off by "
                      "default: dropping or relabelling test's texts by their labels makes "
                      "test easier than the texts the model will meet.")
    flags.mark_flags_as_required(["train", "out_dir"])


def main(argv):
    FLAGS = flags.FLAGS
    if FLAGS.folds < 2:
        raise UserError("--folds must be at least 2")
    if not 0.0 < FLAGS.near_threshold <= 1.0:
        raise UserError("--near_threshold must be in (0, 1]")
    from textrnn.curation import audit
    estimator = None
    if FLAGS.model == "recipe":
        from textrnn.classifier import TextClassifier
        estimator = TextClassifier(seed=FLAGS.seed, verbose=0)
    file_format = formats.FileFormat(**settings.values(formats.FileFormat, FLAGS))
    report = audit.audit_files(
        dict(train=FLAGS.train, val=FLAGS.val, test=FLAGS.test), file_format,
        folds=FLAGS.folds, seed=FLAGS.seed, near_threshold=FLAGS.near_threshold,
        label_issues=FLAGS.label_issues, words=FLAGS.wide_words, check_test=FLAGS.audit_test,
        estimator=estimator)
    report.write(FLAGS.out_dir)
    print("\n".join(report.summary()))
    print(f"wrote {FLAGS.out_dir}/{{{audit.DUPLICATES_FILE},{audit.ISSUES_FILE},"
          f"{audit.REPORT_FILE}}}")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
