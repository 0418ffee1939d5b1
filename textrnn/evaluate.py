"""`textrnn-evaluate`: score a trained model on a labelled file.

Prints accuracy, macro-F1, per-class precision/recall/F1/support and the
confusion matrix as aligned tables, and writes them to --report as JSON.

    textrnn-evaluate --model_dir=runs/demo/model --input_file=data/demo/test.txt --report=eval.json

--input_file is either raw (`label<TAB>text`, tokenized here the model's way)
or a `textrnn-prepare` output split (`label<TAB>tok tok`, used as it is).
"""

import os

import numpy as np
from absl import flags

from textrnn import artifacts, corpus
from textrnn.errors import UserError, run_app
from textrnn.vocab import MANIFEST_FILE


def define_flags():
    """Flags of textrnn-evaluate."""
    flags.DEFINE_string("saved_model", None, "An exported SavedModel folder.")
    flags.DEFINE_string("model_dir", None, "A textrnn model directory (uses MODEL_DIR/export).")
    flags.DEFINE_string("input_file", None, "Labelled file, 'label<TAB>text' a line.")
    flags.DEFINE_enum("input_format", "auto", ["auto", "raw", "prepared"], "raw: tokenize the "
                      "text the model's way; prepared: already tokenized by textrnn-prepare; "
                      "auto: prepared when the file sits in a textrnn-prepare folder.")
    flags.DEFINE_string("report", None, "Write the report as JSON to this path.")
    flags.DEFINE_integer("batch_size", 256, "Texts run through the model at once.")


def is_prepared(path):
    return os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(path)), MANIFEST_FILE))


def read_examples(path, labels, prepared, predictor):
    """(token strings, label ids) of a labelled file; unknown labels are an error."""
    index = {label: i for i, label in enumerate(labels)}
    texts, ids, unknown = [], [], {}
    for line_number, label, text in corpus.read_labelled(path):
        if label not in index:
            unknown.setdefault(label, line_number)
            continue
        texts.append(text if prepared else predictor.tokens(text))
        ids.append(index[label])
    if unknown:
        listed = "; ".join(f"{label!r} (first at {path}:{n})" for label, n in unknown.items())
        raise UserError(f"{path}: labels the model does not know: {listed}. "
                        f"Known: {', '.join(labels)}")
    return texts, np.array(ids, np.int64)


def scores(true_ids, predicted_ids, num_classes):
    """Accuracy, macro-F1 and per-class figures from TensorFlow's confusion matrix."""
    import tensorflow as tf
    matrix = tf.math.confusion_matrix(true_ids, predicted_ids, num_classes=num_classes,
                                      dtype=tf.float64)
    true_positives = tf.linalg.diag_part(matrix)
    support = tf.reduce_sum(matrix, axis=1)
    predicted = tf.reduce_sum(matrix, axis=0)
    precision = tf.math.divide_no_nan(true_positives, predicted)
    recall = tf.math.divide_no_nan(true_positives, support)
    f1 = tf.math.divide_no_nan(2 * precision * recall, precision + recall)
    return dict(
        examples=int(tf.reduce_sum(support)),
        accuracy=float(tf.reduce_sum(true_positives) / tf.maximum(tf.reduce_sum(support), 1.0)),
        macro_f1=float(tf.reduce_mean(f1)),
        precision=precision.numpy().tolist(), recall=recall.numpy().tolist(),
        f1=f1.numpy().tolist(), support=support.numpy().astype(int).tolist(),
        confusion_matrix=matrix.numpy().astype(int).tolist(),
    )


def evaluate(predictor, path, input_format="auto", batch_size=256):
    """The report dict for one labelled file."""
    prepared = is_prepared(path) if input_format == "auto" else input_format == "prepared"
    texts, true_ids = read_examples(path, predictor.labels, prepared, predictor)
    predicted = np.concatenate([predictor.probabilities(texts[i:i + batch_size]).argmax(-1)
                                for i in range(0, len(texts), batch_size)] or [np.zeros(0, int)])
    report = scores(true_ids, predicted, len(predictor.labels))
    return dict(input_file=os.path.abspath(path), input_format="prepared" if prepared else "raw",
                labels=list(predictor.labels), **report)


def format_report(report):
    """Aligned tables for the terminal."""
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


def _display_width(text):
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _display_trim(text, width):
    """Right-align helper: pad CJK labels by their display width."""
    return " " * max(0, width - _display_width(text)) + text if _display_width(text) < width else text


def main(argv):
    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.input_file:
        raise UserError("--input_file is required")
    if FLAGS.batch_size < 1:
        raise UserError("--batch_size must be at least 1")
    from textrnn.inference import Predictor, resolve_export
    predictor = Predictor(resolve_export(FLAGS.saved_model, FLAGS.model_dir))
    report = evaluate(predictor, FLAGS.input_file, FLAGS.input_format, FLAGS.batch_size)
    print(format_report(report))
    if FLAGS.report:
        artifacts.write_json(FLAGS.report, report)


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
