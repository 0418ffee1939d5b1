"""`textrnn-evaluate`: score a trained model on a labelled file.

Prints accuracy, macro-F1, per-class precision/recall/F1/support and the
confusion matrix (for a multi-label model: micro- and macro-F1, exact match,
Hamming loss and per-label precision/recall/F1/support) as aligned tables (or, with --format=json, the report as
JSON on stdout), writes the report to --report as JSON and the confusion
matrix to --plot as a picture. It warns when many texts are mostly outside
the model's vocabulary: there its answers are guesses.

    textrnn-evaluate --model_dir=runs/demo/model --input_file=data/demo/test.txt --report=eval.json
    textrnn-evaluate --model_dir=runs/demo/model --input_file=data/demo/test.txt --plot=cm.svg

--input_file is either raw (any layout textrnn-prepare reads, cut the model's way)
or a `textrnn-prepare` output split (`label<TAB>tok tok`, used as it is). The
scoring is textrnn.serving.evaluation's.
"""

import json
import os

from absl import flags

from textrnn.serving import evaluation
from textrnn.serving.source import ModelSource
from textrnn.text import formats
from textrnn.training import artifacts
from textrnn.util import settings
from textrnn.util.console import say
from textrnn.util.errors import run_app


def define_flags():
    """Flags of textrnn-evaluate."""
    settings.define_flags(ModelSource)
    flags.DEFINE_string("input_file", None, "Labelled file: 'label<TAB>text' a line "
                        "('label1|label2<TAB>text' for a multi-label model, its separator), "
                        "CSV, JSON Lines or fastText lines (see --input_format).")
    flags.DEFINE_enum("input_format", "auto", ["auto", "raw", "prepared", *formats.FORMATS[1:]],
                      "prepared: already tokenized by textrnn-prepare; tsv, csv, jsonl, "
                      "fasttext: raw text in that layout (see textrnn-prepare --help), "
                      "tokenized the model's way; raw: raw text, its layout by extension; "
                      "auto: prepared when the file sits in a textrnn-prepare folder, else raw.")
    settings.define_flags(formats.FileFormat, skip=("format",))
    flags.mark_flag_as_required("input_file")
    flags.DEFINE_string("report", None, "Write the report as JSON to this path.")
    flags.DEFINE_enum("format", "table", ["table", "json"], "table: aligned text for people; "
                      "json: the report as one JSON object on stdout.")
    flags.DEFINE_string("plot", None, "Draw the confusion matrix (a multi-label model: each "
                        "label's precision, recall and F1) to this file: SVG when it ends "
                        "in .svg (text stays text, so browsers draw any label), else PNG "
                        "(class ids and a PATH.labels.txt legend when no font draws the "
                        "labels); and the reliability diagram of the probabilities beside it "
                        "(STEM.reliability.svg or .png).")
    flags.DEFINE_float("unknown_warning", 0.5, "A text counts as mostly unknown when more than "
                       "this share of its tokens is outside the model's vocabulary.")


def main(argv):
    FLAGS = flags.FLAGS
    source = ModelSource(**settings.values(ModelSource, FLAGS))
    from textrnn.serving.inference import Predictor
    predictor = Predictor(source.export_dir())
    file_format = formats.FileFormat(**settings.values(formats.FileFormat, FLAGS,
                                                       skip=("format",)))
    report = evaluation.evaluate(predictor, FLAGS.input_file, FLAGS.input_format, source.batch_size,
                      FLAGS.unknown_warning, file_format)
    evaluation.warn_unknown(report)
    if FLAGS.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(evaluation.format_report(report))
    if FLAGS.report:
        artifacts.write_json(FLAGS.report, report)
    if FLAGS.plot:
        _plot(FLAGS.plot, report, os.path.basename(FLAGS.input_file))


def _plot(path, report, name):
    """The confusion matrix, or a multi-label model's per-label scores, drawn to `path`;
    the reliability diagram beside it."""
    from textrnn.util import plots
    _plot_reliability(path, report, name)
    if report.get("multi_label"):
        legend = plots.save_label_scores(
            path, report["labels"], report["precision"], report["recall"], report["f1"],
            report["support"], f"{name}: micro-F1 {report['micro_f1']:.4f}, macro-F1 "
            f"{report['macro_f1']:.4f}")
        say(f"per-label scores drawn to {path}"
            + (f" (label ids; legend in {legend})" if legend else ""))
        return
    legend = plots.save_confusion(path, report["confusion_matrix"], report["labels"],
                                  f"{name}: accuracy {report['accuracy']:.4f}")
    say(f"confusion matrix drawn to {path}"
        + (f" (class ids; legend in {legend})" if legend else ""))


def _plot_reliability(path, report, name):
    """The reliability diagram beside --plot's picture: PATH's stem + .reliability."""
    from textrnn.util import plots
    stem, suffix = os.path.splitext(path)
    where = f"{stem}.reliability{suffix or '.png'}"
    c = report["calibration"]
    plots.save_reliability(where, c["reliability"], f"{name}: ECE {c['ece']:.4f}")
    say(f"reliability diagram drawn to {where}")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
