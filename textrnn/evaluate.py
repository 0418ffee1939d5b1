"""`textrnn-evaluate`: score a trained model on a labelled file.

Prints accuracy, macro-F1, calibration (ECE, Brier, log-loss), the prediction
sets' coverage and size and abstaining's answered share and accuracy (for models
that serve them), per-class precision/recall/F1/support and the
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
                        "labels); and beside it the reliability diagram of the probabilities "
                        "(STEM.reliability.svg or .png) and, for one label a text, the "
                        "accuracy-coverage curve of abstaining by confidence "
                        "(STEM.coverage.svg or .png).")
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
    if report.get("confidence"):
        _plot_coverage(path, report["confidence"], name)
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


def _beside(path, kind):
    """PATH's stem + .kind + its suffix: where a second picture of --plot goes."""
    stem, suffix = os.path.splitext(path)
    return f"{stem}.{kind}{suffix or '.png'}"


def _plot_reliability(path, report, name):
    """The reliability diagram beside --plot's picture."""
    from textrnn.util import plots
    where = _beside(path, "reliability")
    c = report["calibration"]
    plots.save_reliability(where, c["reliability"], f"{name}: ECE {c['ece']:.4f}")
    say(f"reliability diagram drawn to {where}")


def _plot_coverage(path, confidence, name):
    """The accuracy-coverage curve beside --plot's picture, the abstain threshold marked."""
    from textrnn.util import plots
    where = _beside(path, "coverage")
    a = confidence.get("abstain")
    chosen = (a["answered"], a["answered_accuracy"]) if a and a["answered_accuracy"] else None
    plots.save_coverage(where, confidence["curve"], f"{name}: abstaining by confidence",
                        chosen)
    say(f"accuracy-coverage curve drawn to {where}")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
