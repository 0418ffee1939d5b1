"""`textrnn-predict`: classify raw text with a trained model.

Texts come from the command line, from --input_file, or from standard input
(one text a line). Each is tokenized exactly as the model's training data was
and run through the exported SavedModel.

    textrnn-predict --model_dir=runs/demo/model "国家队在世界杯预选赛中取胜"
    textrnn-predict --saved_model=export --input_file=texts.txt --format=json --top_k=3
    textrnn-predict --model_dir=runs/demo/model --explain --explain_html=why.html "股市大涨"
"""

import json
import sys

from absl import flags

from textrnn.serving.source import ModelSource
from textrnn.text import formats
from textrnn.util import settings
from textrnn.util.console import say
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-predict."""
    settings.define_flags(ModelSource)
    flags.DEFINE_string("input_file", None, "Raw texts: one a line, or the text column of a "
                        "CSV or JSON Lines file, or fastText lines without their labels (see "
                        "--input_format; default: the positional arguments, else standard "
                        "input, one text a line).")
    flags.DEFINE_enum("input_format", "auto", formats.FORMATS, "Layout of --input_file: tsv "
                      "(here: one text a line, the whole line), csv, jsonl, fasttext; auto: "
                      "by extension (see textrnn-prepare --help).")
    settings.define_flags(formats.FileFormat, skip=("format", "label_column"))
    flags.DEFINE_integer("top_k", 1, "How many labels to show per text, most probable first. "
                         "A multi-label model shows every label it gives a text (those at or "
                         "above their thresholds), and the --top_k most probable besides in "
                         "JSON, or in the table when it gives none.")
    flags.DEFINE_enum("format", "table", ["table", "json"], "table: aligned text for people; "
                      "json: one JSON object a line.")
    flags.DEFINE_bool("explain", False, "Say why: each text with its most influential units "
                      "(characters or words) marked, [toward] the label and {against} it (in "
                      "colour on a terminal), then the --explain_units largest with their "
                      "shares of the label's probability; with --format=json each text's "
                      "explanation (its units, their offsets and attributions). See "
                      "docs/explain.md for what the numbers mean.")
    flags.DEFINE_integer("explain_units", 5, "How many units --explain marks and lists.")
    flags.DEFINE_string("explain_label", None, "Explain this label instead of each text's "
                        "predicted one.")
    flags.DEFINE_string("explain_html", None, "Also write one self-contained HTML page to "
                        "this file: every text shaded by its attributions (implies "
                        "--explain).")
    flags.DEFINE_float("unknown_warning", 0.5, "Warn (on stderr) about a text when more than "
                       "this share of its tokens is outside the model's vocabulary: the model "
                       "has learned nothing about them and its answer is mostly a guess.")


def _stdin_texts():
    for line_number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise UserError(f"<stdin>:{line_number}: bytes that are not UTF-8") from None


def input_texts(args, input_file, file_format=None):
    if args and input_file:
        raise UserError("give texts as arguments or --input_file, not both")
    if args:
        return iter(args)
    if input_file:
        return (text for _, text in formats.read_texts(input_file, file_format
                                                       or formats.FileFormat()))
    return _stdin_texts()


def top(probabilities, labels, k):
    order = probabilities.argsort()[::-1][:k]
    return [(labels[i], float(probabilities[i])) for i in order]


def _shown(text):
    return text if len(text) <= 40 else text[:39] + "…"


def _table_row(text, best):
    guesses = "  ".join(f"{label} {p:.4f}" for label, p in best)
    return f"{guesses}\t{_shown(text)}"


def _warn_unknown(number, text, unknown, threshold):
    if unknown > threshold:
        shown = text if len(text) <= 20 else text[:19] + "…"
        say(f"warning: text {number} ({shown}): {unknown:.0%} of its tokens are unknown to "
            "the model, so its answer is mostly a guess")


def main(argv):
    FLAGS = flags.FLAGS
    if FLAGS.top_k < 1:
        raise UserError("--top_k must be at least 1")
    source = ModelSource(**settings.values(ModelSource, FLAGS))
    from textrnn.serving.inference import Predictor
    predictor = Predictor(source.export_dir())
    k = min(FLAGS.top_k, len(predictor.labels))
    file_format = formats.FileFormat(format=FLAGS.input_format, **settings.values(
        formats.FileFormat, FLAGS, skip=("format", "label_column")))
    texts = input_texts(argv[1:], FLAGS.input_file, file_format)
    if FLAGS.explain or FLAGS.explain_html or FLAGS.explain_label:
        return _explain(predictor, texts, source.batch_size, FLAGS)
    row = _multi_label_row if predictor.multi_label else _single_label_row
    for number, (text, out) in enumerate(predictor.predict(texts, source.batch_size), start=1):
        _warn_unknown(number, text, out["unknown_share"], FLAGS.unknown_warning)
        print(row(text, out, predictor.labels, k, FLAGS.format), flush=True)


def _explain(predictor, texts, batch_size, FLAGS):
    """--explain: each text's explanation as it comes, and the HTML page at the end."""
    from textrnn.serving import explanations
    if FLAGS.explain_units < 1:
        raise UserError("--explain_units must be at least 1")
    if FLAGS.explain_label is not None and FLAGS.explain_label not in predictor.labels:
        raise UserError(f"--explain_label={FLAGS.explain_label}: not one of the model's "
                        f"labels ({', '.join(predictor.labels)})")
    colour = FLAGS.format == "table" and sys.stdout.isatty()
    kept = []
    for e in predictor.explain(texts, FLAGS.explain_label, min(batch_size, 32)):
        if FLAGS.format == "json":
            print(json.dumps(e.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(explanations.table_row(e, FLAGS.explain_units, colour), flush=True)
        if FLAGS.explain_html:
            kept.append(e)
    if FLAGS.explain_html:
        explanations.write_page(FLAGS.explain_html, kept)
        say(f"wrote {FLAGS.explain_html}")


def _single_label_row(text, out, labels, k, form):
    """The top --top_k labels; a model that abstained is marked (table: `abstains:`, then
    its answer, the abstain label or its guess), and JSON carries the prediction set and
    the abstain decision when the model serves them."""
    best = top(out["probabilities"], labels, k)
    label = out["label"].decode("utf-8") if "label" in out else best[0][0]
    abstains = bool(out.get("abstain", False))
    if form == "table":
        row = _table_row(text, best)
        if label != best[0][0]:
            row = f"{label} ({row.split(chr(9))[0]})\t{_shown(text)}"
        return f"abstains: {row}" if abstains else row
    record = {"text": text, "label": label, "probability": best[0][1],
              "top_k": [{"label": l, "probability": p} for l, p in best],
              "unknown_share": round(float(out["unknown_share"]), 4)}
    if "label_set" in out:
        record.update(label_set=out["label_set"], confidence=round(float(out["confidence"]), 6),
                      abstain=abstains)
    return json.dumps(record, ensure_ascii=False)


def _multi_label_row(text, out, labels, k, form):
    """Every label the model gives the text, with its probability; --top_k shows that
    many of the most probable labels besides (json) or when it gives none (table)."""
    index = {label: i for i, label in enumerate(labels)}
    chosen = [(label, float(out["probabilities"][index[label]])) for label in out["labels"]]
    if form == "table":
        if chosen:
            return _table_row(text, chosen)
        guesses = "  ".join(f"{l} {p:.4f}" for l, p in top(out["probabilities"], labels, k))
        return f"(no label; most probable: {guesses})\t{_shown(text)}"
    return json.dumps({"text": text, "labels": [{"label": l, "probability": p} for l, p in chosen],
                       "top_k": [{"label": l, "probability": p}
                                 for l, p in top(out["probabilities"], labels, k)],
                       "unknown_share": round(float(out["unknown_share"]), 4)},
                      ensure_ascii=False)


def run():
    define_flags()
    run_app(main, texts=True)


if __name__ == "__main__":
    run()
