"""Scoring a SavedModel on a labelled file: the report textrnn-evaluate prints.

`evaluate` reads the file (any layout text/formats.py reads, or a prepared
split), runs the texts through the SavedModel as they would be served, and
scores its answers with training/metrics.py: accuracy, macro-F1, per-class
figures and the confusion matrix, or a multi-label model's label-set scores;
with how many texts are mostly outside the model's vocabulary.
`format_report` lays a report out as aligned tables.
"""

import os

import numpy as np

from textrnn.text import formats
from textrnn.text.vocab import MANIFEST_FILE
from textrnn.training import metrics
from textrnn.util.console import say
from textrnn.util.errors import UserError


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
    out = _run_all(predictor, texts, batch_size)
    probabilities = out["probabilities"]
    report = metrics.classes(true_ids, probabilities.argmax(-1), len(predictor.labels))
    return dict(input_file=os.path.abspath(path), input_format="prepared" if prepared else "raw",
                labels=list(predictor.labels), **report,
                calibration=metrics.calibration(probabilities, true_ids),
                confidence=_confidence(predictor, out, true_ids),
                unknown_tokens=_unknown_summary(out["unknown_share"], unknown_warning))


def _run_all(predictor, texts, batch_size):
    """serving_default's outputs for all `texts`, concatenated: probabilities,
    unknown_share, and where the model has them label_set (as [n, classes] membership)
    and abstain."""
    from textrnn.util.console import Progress
    progress = Progress("evaluate", len(texts), "texts", seconds=10.0)
    index = {label: i for i, label in enumerate(predictor.labels)}
    parts = {"probabilities": [np.zeros((0, len(index)), np.float32)],
             "unknown_share": [np.zeros(0, np.float32)]}
    for i in range(0, len(texts), batch_size):
        out = predictor.run(texts[i:i + batch_size])
        if "label_set" in out:
            member = np.zeros(out["probabilities"].shape, bool)
            for row, labels in enumerate(out["label_set"]):
                member[row, [index[label] for label in labels]] = True
            out["label_set"] = member
        for key in ("probabilities", "unknown_share", "label_set", "abstain"):
            if key in out:
                parts.setdefault(key, []).append(out[key])
        progress.add(len(out["probabilities"]))
    return {key: np.concatenate(values) for key, values in parts.items()}


def _confidence(predictor, out, true_ids):
    """Prediction sets' coverage and size, abstaining's answered share and accuracy, and
    the accuracy-coverage curve; sets and abstaining only for models that serve them."""
    p = out["probabilities"]
    correct = p.argmax(-1) == true_ids
    report = dict(curve=metrics.accuracy_coverage(p.max(-1), correct))
    served = predictor.confidence
    if served and "label_set" in out:
        report["sets"] = dict(alpha=served["conformal_alpha"],
                              **metrics.prediction_sets(out["label_set"], true_ids))
    if served and served.get("abstain"):
        report["abstain"] = dict(threshold=served["abstain"]["threshold"],
                                 target=served["abstain_target_accuracy"],
                                 **metrics.selective(~out["abstain"], correct))
    return report


def _evaluate_label_sets(predictor, path, prepared, batch_size, unknown_warning, file_format):
    """The report of a multi-label model: its decisions (the graph's `labels`) scored."""
    from textrnn.util.console import Progress
    labels = predictor.labels
    texts, truth = read_label_sets(path, labels, predictor.label_separator, prepared, predictor,
                                   file_format)
    index = {label: i for i, label in enumerate(labels)}
    predicted = np.zeros_like(truth)
    unknown, probabilities = [np.zeros(0, np.float32)], [np.zeros((0, len(labels)), np.float32)]
    progress = Progress("evaluate", len(texts), "texts", seconds=10.0)
    for start in range(0, len(texts), batch_size):
        out = predictor.run(texts[start:start + batch_size])
        for row, chosen in enumerate(out["labels"], start=start):
            predicted[row, [index[label] for label in chosen]] = True
        unknown.append(out["unknown_share"])
        probabilities.append(out["probabilities"])
        progress.add(len(out["labels"]))
    report = metrics.label_sets(truth, predicted)
    return dict(input_file=os.path.abspath(path), input_format="prepared" if prepared else "raw",
                multi_label=True, labels=list(labels), **report,
                calibration=metrics.label_calibration(np.concatenate(probabilities), truth),
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
             f"macro-F1  {report['macro_f1']:.4f}", *_calibration_lines(report, "top class"),
             *_confidence_lines(report),
             "", f"{pad('class')} precision  recall      F1  support"]
    for i, label in enumerate(labels):
        lines.append(f"{pad(label)} {report['precision'][i]:9.4f} {report['recall'][i]:7.4f} "
                     f"{report['f1'][i]:7.4f} {report['support'][i]:8d}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted)",
              pad("") + " " + " ".join(f"{_display_trim(l, 6):>6}" for l in labels)]
    for label, row in zip(labels, report["confusion_matrix"]):
        lines.append(pad(label) + " " + " ".join(f"{n:{6}d}" for n in row))
    return "\n".join(lines)


def _calibration_lines(report, of):
    """The calibration figures, when the report has them (reports of old versions do not)."""
    c = report.get("calibration")
    if not c:
        return []
    return [f"calibration of the probabilities ({of}): ECE {c['ece']:.4f} "
            f"({metrics.ECE_BINS} equal-width bins), {c['ece_equal_mass']:.4f} (equal-mass); "
            f"Brier {c['brier']:.4f}; log-loss {c['log_loss']:.4f}"]


def _confidence_lines(report):
    """Prediction sets and abstaining, when the model serves them."""
    c = report.get("confidence") or {}
    lines = []
    if "sets" in c:
        s = c["sets"]
        lines.append(f"prediction sets (alpha {s['alpha']:g}): coverage {s['coverage']:.4f} "
                     f"(at least {1 - s['alpha']:.2f} intended), mean size "
                     f"{s['mean_set_size']:.3f}")
    if "abstain" in c:
        a = c["abstain"]
        answered = "none answered" if a["answered_accuracy"] is None else \
            f"accuracy of the answered {a['answered_accuracy']:.4f}"
        lines.append(f"abstaining below confidence {a['threshold']:g} (target "
                     f"{a['target']:g}): {a['answered']:.1%} answered, {answered}")
    return lines


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
             f"Hamming loss  {report['hamming_loss']:.4f}",
             *_calibration_lines(report, "each label's, micro over labels"), "",
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
