"""`textrnn-predict`: classify raw text with a trained model.

Texts come from the command line, from --input_file, or from standard input
(one text a line). Each is tokenized exactly as the model's training data was
and run through the exported SavedModel.

    textrnn-predict --model_dir=runs/demo/model "国家队在世界杯预选赛中取胜"
    textrnn-predict --saved_model=export --input_file=texts.txt --format=json --top_k=3
"""

import json
import sys

from absl import flags

from textrnn.serving.source import ModelSource
from textrnn.text import corpus
from textrnn.util import settings
from textrnn.util.console import say
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-predict."""
    settings.define_flags(ModelSource)
    flags.DEFINE_string("input_file", None, "Raw texts, one a line, UTF-8 (default: the "
                        "positional arguments, else standard input).")
    flags.DEFINE_integer("top_k", 1, "How many labels to show per text, most probable first.")
    flags.DEFINE_enum("format", "table", ["table", "json"], "table: aligned text for people; "
                      "json: one JSON object a line.")
    flags.DEFINE_float("unknown_warning", 0.5, "Warn (on stderr) about a text when more than "
                       "this share of its tokens is outside the model's vocabulary: the model "
                       "has learned nothing about them and its answer is mostly a guess.")


def _stdin_texts():
    for line_number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise UserError(f"<stdin>:{line_number}: bytes that are not UTF-8") from None


def input_texts(args, input_file):
    if args and input_file:
        raise UserError("give texts as arguments or --input_file, not both")
    if args:
        return iter(args)
    if input_file:
        return (text for _, text in corpus.read_texts(input_file))
    return _stdin_texts()


def top(probabilities, labels, k):
    order = probabilities.argsort()[::-1][:k]
    return [(labels[i], float(probabilities[i])) for i in order]


def _table_row(text, best):
    shown = text if len(text) <= 40 else text[:39] + "…"
    guesses = "  ".join(f"{label} {p:.4f}" for label, p in best)
    return f"{guesses}\t{shown}"


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
    texts = input_texts(argv[1:], FLAGS.input_file)
    for number, (text, probabilities, unknown) in enumerate(
            predictor.predict(texts, source.batch_size), start=1):
        best = top(probabilities, predictor.labels, k)
        _warn_unknown(number, text, unknown, FLAGS.unknown_warning)
        if FLAGS.format == "json":
            line = json.dumps({"text": text, "label": best[0][0], "probability": best[0][1],
                               "top_k": [{"label": l, "probability": p} for l, p in best],
                               "unknown_share": round(float(unknown), 4)},
                              ensure_ascii=False)
        else:
            line = _table_row(text, best)
        print(line, flush=True)


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
