"""`textrnn-evaluate`: score a trained model on a labelled file.

Prints accuracy, macro-F1, per-class precision/recall/F1/support and the
confusion matrix (for a multi-label model: micro- and macro-F1, exact match,
Hamming loss and per-label precision/recall/F1/support) as aligned tables (or, with --format=json, the report as
JSON on stdout), writes the report to --report as JSON and the confusion
matrix to --plot as a picture. It warns when many texts are mostly outside
the model's vocabulary: there its answers are guesses.

    textrnn-evaluate --model_dir=runs/demo/model --input_file=data/demo/test.txt --report=eval.json
    textrnn-evaluate --model_dir=runs/demo/model --input_file=data/demo/test.txt --plot=cm.svg

--input_file is either raw (`label<TAB>text`, tokenized here the model's way)
or a `textrnn-prepare` output split (`label<TAB>tok tok`, used as it is).
"""

import json
import os

import numpy as np
from absl import flags

from textrnn.text import formats
from textrnn.text.vocab import MANIFEST_FILE
from textrnn.serving.source import ModelSource
from textrnn.training import artifacts
from textrnn.training import metrics
from textrnn.util import settings
from textrnn.util.console import say
from textrnn.util.errors import UserError, run_app


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
    flags.DEFINE_string("report", None, "Write the report as JSON to this path.")
    flags.DEFINE_enum("format", "table", ["table", "json"], "table: aligned text for people; "
                      "json: the report as one JSON object on stdout.")
    flags.DEFINE_string("plot", None, "Draw the confusion matrix (a multi-label model: each "
                        "label's precision, recall and F1) to this file: SVG when it ends "
                        "in .svg (text stays text, so browsers draw any label), else PNG "
                        "(class ids and a PATH.labels.txt legend when no font draws the labels).")
    flags.DEFINE_float("unknown_warning", 0.5, "A text counts as mostly unknown when more than "
                       "this share of its tokens is outside the model's vocabulary.")


def is_prepared(path):
    return os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(path)), MANIFEST_FILE))


def read_examples(path, labels, prepared, predictor, file_format=None):
    """(model inputs, label ids) of a labelled file; unknown labels are an error."""
    index = {label: i for i, label in enumerate(labels)}
    texts, ids, unknown = [], [], {}
    for record in formats.read_labelled(path, _layout(file_format, prepared)):
        line_number, label, text = record.line, record.labels[0], record.text
        if label not in index:
            unknown.setdefault(label, line_number)
            continue
        texts.append(text if prepared else predictor.model_input(text))
        ids.append(index[label])
    if unknown:
        listed = "; ".join(f"{label!r} (first at {path}:{n})" for label, n in unknown.items())
        raise UserError(f"{path}: labels the model does not know: {listed}. "
                        f"Known: {', '.join(labels)}")
    return texts, np.array(ids, np.int64)


def read_label_sets(path, labels, separator, prepared, predictor, file_format=None):
    """(model inputs, true 0/1 rows) of a multi-label file; unknown labels are an error."""
    index = {label: i for i, label in enumerate(labels)}
    texts, rows, unknown = [], [], {}
    for record in formats.read_labelled(path, _layout(file_format, prepared), True, separator):
        line_number, text = record.line, record.text
        row = np.zeros(len(labels), bool)
        for label in record.labels:
            if label not in index:
                unknown.setdefault(label, line_number)
                continue
            row[index[label]] = True
        texts.append(text if prepared else predictor.model_input(text))
        rows.append(row)
    if unknown:
        listed = "; ".join(f"{label!r} (first at {path}:{n})" for label, n in unknown.items())
        raise UserError(f"{path}: labels the model does not know: {listed}")
    return texts, np.array(rows, bool).reshape(-1, len(labels))


def _layout(file_format, prepared):
    """The FileFormat to read with: a prepared split is label<TAB>tokens in UTF-8."""
    return formats.FileFormat(format="tsv") if prepared else file_format or formats.FileFormat()


def evaluate(predictor, path, input_format="auto", batch_size=256, unknown_warning=0.5,
             file_format=None):
    """The report dict for one labelled file (`file_format`: a formats.FileFormat for raw
    text; `input_format` may name the layout, or 'prepared')."""
    from textrnn.util.console import Progress
    prepared = is_prepared(path) if input_format == "auto" else input_format == "prepared"
    if input_format in formats.FORMATS:
        import dataclasses
        file_format = dataclasses.replace(file_format or formats.FileFormat(), format=input_format)
    if predictor.multi_label:
        return _evaluate_label_sets(predictor, path, prepared, batch_size, unknown_warning,
                                    file_format)
    texts, true_ids = read_examples(path, predictor.labels, prepared, predictor, file_format)
    progress = Progress("evaluate", len(texts), "texts", seconds=10.0)
    predicted, unknown = [np.zeros(0, np.int64)], [np.zeros(0, np.float32)]
    for i in range(0, len(texts), batch_size):
        probabilities, share = predictor.outputs(texts[i:i + batch_size])
        predicted.append(probabilities.argmax(-1))
        unknown.append(share)
        progress.add(len(probabilities))
    report = metrics.classes(true_ids, np.concatenate(predicted), len(predictor.labels))
    return dict(input_file=os.path.abspath(path), input_format="prepared" if prepared else "raw",
                labels=list(predictor.labels), **report,
                unknown_tokens=_unknown_summary(np.concatenate(unknown), unknown_warning))


def _evaluate_label_sets(predictor, path, prepared, batch_size, unknown_warning, file_format):
    """The report of a multi-label model: its decisions (the graph's `labels`) scored."""
    from textrnn.util.console import Progress
    labels = predictor.labels
    texts, truth = read_label_sets(path, labels, predictor.label_separator, prepared, predictor,
                                   file_format)
    index = {label: i for i, label in enumerate(labels)}
    predicted = np.zeros_like(truth)
    unknown = [np.zeros(0, np.float32)]
    progress = Progress("evaluate", len(texts), "texts", seconds=10.0)
    for start in range(0, len(texts), batch_size):
        out = predictor.run(texts[start:start + batch_size])
        for row, chosen in enumerate(out["labels"], start=start):
            predicted[row, [index[label] for label in chosen]] = True
        unknown.append(out["unknown_share"])
        progress.add(len(out["labels"]))
    report = metrics.label_sets(truth, predicted)
    return dict(input_file=os.path.abspath(path), input_format="prepared" if prepared else "raw",
                multi_label=True, labels=list(labels), **report,
                unknown_tokens=_unknown_summary(np.concatenate(unknown), unknown_warning))


def _unknown_summary(shares, threshold):
    """How much of the texts the model could not read (None for old SavedModels)."""
    if not len(shares) or np.isnan(shares).any():
        return None
    return dict(mean_share=round(float(shares.mean()), 4), threshold=threshold,
                texts_over_threshold=int((shares > threshold).sum()))


def warn_unknown(report):
    summary = report.get("unknown_tokens")
    if summary and summary["texts_over_threshold"]:
        over = summary["texts_over_threshold"]
        say(f"warning: {over:,} of {report['examples']:,} texts ({over / report['examples']:.0%}) "
            f"have more than {summary['threshold']:.0%} of their tokens outside the model's "
            "vocabulary; its answers for them are mostly guesses")


def format_report(report):
    """Aligned tables for the terminal."""
    if report.get("multi_label"):
        return _format_label_sets(report)
    labels = report["labels"]
    width = max(8, *(len(label) * 2 for label in labels))  # CJK characters are double width
    pad = lambda text: text + " " * (width - _display_width(text))
    lines = [f"examples  {report['examples']}",
             f"accuracy  {report['accuracy']:.4f}",
             f"macro-F1  {report['macro_f1']:.4f}", "",
             f"{pad('class')} precision  recall      F1  support"]
    for i, label in enumerate(labels):
        lines.append(f"{pad(label)} {report['precision'][i]:9.4f} {report['recall'][i]:7.4f} "
                     f"{report['f1'][i]:7.4f} {report['support'][i]:8d}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted)",
              pad("") + " " + " ".join(f"{_display_trim(l, 6):>6}" for l in labels)]
    for label, row in zip(labels, report["confusion_matrix"]):
        lines.append(pad(label) + " " + " ".join(f"{n:{6}d}" for n in row))
    return "\n".join(lines)


def _format_label_sets(report):
    labels = report["labels"]
    width = max(8, *(_display_width(label) for label in labels))
    pad = lambda text: text + " " * (width - _display_width(text))
    lines = [f"examples      {report['examples']}",
             f"micro-F1      {report['micro_f1']:.4f}",
             f"macro-F1      {report['macro_f1']:.4f}  (the {report['labels_present']} labels "
             "with a positive in the file)",
             f"macro-F1      {report['macro_f1_all_labels']:.4f}  (all {len(labels)} labels)",
             f"exact match   {report['exact_match']:.4f}",
             f"Hamming loss  {report['hamming_loss']:.4f}", "",
             f"{pad('label')} precision  recall      F1  support  predicted"]
    for i, label in enumerate(labels):
        lines.append(f"{pad(label)} {report['precision'][i]:9.4f} {report['recall'][i]:7.4f} "
                     f"{report['f1'][i]:7.4f} {report['support'][i]:8d} "
                     f"{report['predicted'][i]:10d}")
    return "\n".join(lines)


def _display_width(text):
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _display_trim(text, width):
    """Right-align helper: pad CJK labels by their display width."""
    return " " * max(0, width - _display_width(text)) + text if _display_width(text) < width else text


def main(argv):
    FLAGS = flags.FLAGS
    if not FLAGS.input_file:
        raise UserError("--input_file is required")
    source = ModelSource(**settings.values(ModelSource, FLAGS))
    from textrnn.serving.inference import Predictor
    predictor = Predictor(source.export_dir())
    file_format = formats.FileFormat(**settings.values(formats.FileFormat, FLAGS,
                                                       skip=("format",)))
    report = evaluate(predictor, FLAGS.input_file, FLAGS.input_format, source.batch_size,
                      FLAGS.unknown_warning, file_format)
    warn_unknown(report)
    if FLAGS.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    if FLAGS.report:
        artifacts.write_json(FLAGS.report, report)
    if FLAGS.plot:
        _plot(FLAGS.plot, report, os.path.basename(FLAGS.input_file))


def _plot(path, report, name):
    """The confusion matrix, or a multi-label model's per-label scores, drawn to `path`."""
    from textrnn.util import plots
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


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
