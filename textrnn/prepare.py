"""`textrnn-prepare`: raw labelled files -> tokenized splits, vocabulary, categories.

Output folder (written to a temporary sibling, renamed into place at the end,
so an error or a kill never leaves a half-written `--out_dir`):

    train.txt val.txt test.txt   label<TAB>tok tok tok (multi-label: label1|label2<TAB>...)
    vocab.txt                    token<TAB>count, train only, <PAD> and <UNK> first
    categories.txt               labels of train, one a line
    manifest.json                tokenizer, options, counts, input checksums

No frequency threshold is applied here: training applies it when loading.
"""

import collections
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time

from absl import flags

import textrnn
from textrnn.text import corpus
from textrnn.text import tokenize
from textrnn.text import vocab
from textrnn.util import atomic
from textrnn.util.console import Progress
from textrnn.util.errors import UserError, run_app
from textrnn.util.parallel import ordered_map

SPLITS = ("train", "val", "test")
PROGRESS_SECONDS = 5.0  # fast tokenizers pass 20,000 lines many times a second


def define_flags():
    """Flags of textrnn-prepare."""
    flags.DEFINE_string("train", None, "Raw training file, 'label<TAB>text' a line (cnews layout), UTF-8.")
    flags.DEFINE_string("val", None, "Raw validation file, same layout as --train.")
    flags.DEFINE_string("test", None, "Raw test file, same layout as --train.")
    flags.DEFINE_string("out_dir", None, "Folder to write the prepared data to (replaced as a whole).")
    flags.DEFINE_enum("tokenizer", "jieba", tokenize.TOKENIZERS,
                      "jieba: word segmentation (as the original); char: one token per character; "
                      "bigram: characters, and the model embeds each pair of adjacent ones.")
    flags.DEFINE_bool("multi_label", False, "Each text has one or more labels, separated by "
                      "--label_separator ('law|contract<TAB>text'): the model gives every "
                      "label its own probability and a text all labels above their "
                      "thresholds. Recorded in the manifest; training and export follow it.")
    flags.DEFINE_string("label_separator", "|", "What separates the labels of a text with "
                        "--multi_label.")
    flags.DEFINE_string("user_dict", None, "Optional jieba user dictionary (jieba's format).")
    flags.DEFINE_bool("jieba_hmm", False, "Let jieba's HMM join characters it has no word for. "
                      "Off by default: the exported SavedModel then cuts raw text itself, "
                      "exactly as prepare did; a model prepared with the HMM exports a "
                      "SavedModel that takes text already cut by jieba (HMM on) instead.")
    flags.DEFINE_integer("num_workers", 0, "Processes that tokenize in parallel. 0: chosen from "
                         f"the input size: one below {PARALLEL_MIN_MB} MB of input (starting "
                         "workers costs more than they save there), every core above it.")
    flags.DEFINE_bool("skip_bad_lines", False,
                      "Skip malformed lines (no TAB, empty label or text, bad UTF-8) and count "
                      "them in the manifest, instead of stopping at the first one.")
    flags.DEFINE_integer("progress_every", 20000,
                         "Report progress every this many lines, at most one line every "
                         f"{PROGRESS_SECONDS:g} s (0: never).")


# Each worker reads, cuts, writes and counts a span of the file on its own,
# so the parent only merges, and one pool serves all three splits (a pool per
# split, or work left to the parent, keeps two workers from doubling one). Spans are small enough for
# steady progress lines and an even split between workers, large enough that
# each task's overhead (a read, a pickled vocabulary count back) is small.
_SPAN_MIN_BYTES, _SPAN_MAX_BYTES, _SPANS_PER_WORKER = 256 << 10, 4 << 20, 16
# Below this much input (train + val + test), one process is as fast or faster
# than two: starting the workers (and jieba in each) costs about a second
# (benchmarks/prepare_speed.py --sizes_mb measures where two overtake one).
PARALLEL_MIN_MB = 2


def default_workers(paths, cpus=None):
    """The worker count for --num_workers=0: 1 below PARALLEL_MIN_MB of input, else all cores."""
    size = sum(os.path.getsize(p) for p in paths.values())
    return 1 if size < PARALLEL_MIN_MB * 2**20 else (cpus or os.cpu_count() or 1)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass
class _SpanTask:
    split: str  # train, val or test: the vocabulary is counted on train only
    path: str
    span: corpus.Span
    part_path: str
    options: dict


@dataclasses.dataclass
class _SpanResult:
    texts: int
    labels: collections.Counter
    first_line: dict  # label -> the line it first appears on
    bad: corpus.BadLines | None
    counter: collections.Counter | None


def _prepare_span(task):
    """Worker: cut one span of a raw file into task.part_path; count what it saw."""
    options = task.options
    cut = tokenize.get_tokenizer(options["tokenizer"], options["user_dict"], options["jieba_hmm"])
    bad = corpus.BadLines() if options["skip_bad_lines"] else None
    result = _SpanResult(0, collections.Counter(), {}, bad,
                         collections.Counter() if task.split == "train" else None)
    with open(task.part_path, "w", encoding="utf-8", newline="\n") as out:
        for line_number, field, text in corpus.read_labelled(task.path, bad, task.span):
            try:
                labels = _labels(field, options, task.path, line_number)
                tokens = cut(text)
                joined = " ".join(tokens)
                if not joined:
                    raise UserError(f"{task.path}:{line_number}: the text has no tokens")
            except UserError as error:
                if bad is None:
                    raise
                bad.add(str(error))
                continue
            for label in labels:
                result.first_line.setdefault(label, line_number)
            out.write(f"{options['label_separator'].join(labels)}\t{joined}\n")
            result.texts += 1
            result.labels.update(labels)
            if result.counter is not None:
                result.counter.update(tokenize.vocabulary_units(options["tokenizer"], tokens))
    return result


def _labels(field, options, path, line_number):
    """The labels of one line: all of them with --multi_label, else the field itself."""
    if options["multi_label"]:
        return corpus.split_labels(field, options["label_separator"], path, line_number)
    return [field]


class _Split:
    """One split's output, put together from its spans' results in input order."""

    def __init__(self, name, path, out_path, options, num_spans):
        self.name, self.path, self.out_path, self.options = name, path, out_path, options
        self.out = open(out_path, "wb")
        self.bad = corpus.BadLines() if options["skip_bad_lines"] else None
        self.texts, self.labels, self.first_line = 0, collections.Counter(), {}
        self.counter = collections.Counter() if name == "train" else None
        self.spans_left = num_spans

    def add(self, part_path, part):
        with open(part_path, "rb") as stream:
            shutil.copyfileobj(stream, self.out)
        os.remove(part_path)
        self.texts += part.texts
        self.labels.update(part.labels)
        for label, line_number in part.first_line.items():
            self.first_line.setdefault(label, line_number)
        if self.bad is not None:
            self.bad.extend(part.bad)
        if self.counter is not None:
            self.counter.update(part.counter)
        self.spans_left -= 1

    def _separator_hint(self, labels):
        separator = self.options["label_separator"]
        if self.options["multi_label"] or not any(separator in label for label in labels):
            return ""
        return (f". These labels contain {separator!r}: if a text has several labels, "
                "prepare with --multi_label")

    def finish(self, known_labels):
        """Close the output; raise UserError for labels not in `known_labels`
        (train's; None for train itself), each named with its first line."""
        self.out.close()
        path = self.path
        unknown = [label for label in self.first_line
                   if known_labels is not None and label not in known_labels]
        if unknown:
            listed = "; ".join(f"{label!r} (first at {path}:{self.first_line[label]})"
                               for label in unknown[:10])
            more = f"; and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise UserError(f"{path}: labels that the training file does not have: "
                            f"{listed}{more}{self._separator_hint(unknown + sorted(known_labels))}")
        if not self.labels:
            raise UserError(f"{path}: no usable lines")
        if self.bad is not None and self.bad.count:
            print(f"warning: {path}: skipped {self.bad.count} bad lines, first: "
                  f"{self.bad.first[0]}", file=sys.stderr)


def _span_bytes(size, num_workers):
    return min(_SPAN_MAX_BYTES, max(_SPAN_MIN_BYTES, size // (num_workers * _SPANS_PER_WORKER)))


def _prepare_splits(paths, tmp, options):
    """Tokenize every split into tmp; returns {name: _Split}.

    The spans of all three splits go through one pool of workers, in order:
    one start-up of the workers (and of jieba in each) instead of three, and
    no worker idles at the end of a split.
    """
    size = sum(os.path.getsize(paths[name]) for name in SPLITS)
    span_bytes = _span_bytes(size, options["num_workers"])
    tasks = [_SpanTask(name, paths[name], span, os.path.join(tmp, f"{name}.txt.part{i}"), options)
             for name in SPLITS
             for i, span in enumerate(corpus.spans(paths[name], span_bytes))]
    splits, progress = {}, None
    try:
        for task, part in zip(tasks, ordered_map(_prepare_span, tasks, options["num_workers"])):
            name = task.split
            if name not in splits:
                spans = [t.span for t in tasks if t.split == name]
                splits[name] = _Split(name, paths[name], os.path.join(tmp, f"{name}.txt"),
                                      options, len(spans))
                progress = Progress(f"  {name}", sum(s.lines for s in spans)
                                    if options["progress_every"] else None,
                                    every=options["progress_every"], seconds=PROGRESS_SECONDS)
            split = splits[name]
            split.add(task.part_path, part)
            progress.add(task.span.lines)
            if not split.spans_left:
                split.finish(None if name == "train" else set(splits["train"].labels))
    finally:
        for split in splits.values():
            split.out.close()
    return splits


def prepare(paths, out_dir, tokenizer="jieba", user_dict=None, num_workers=1,
            skip_bad_lines=False, progress_every=20000, jieba_hmm=False, multi_label=False,
            label_separator="|"):
    """Prepare `paths` ({'train': ..., 'val': ..., 'test': ...}) into out_dir.

    The result appears in out_dir only when everything succeeded.
    Returns the manifest dict.
    """
    for name in SPLITS:
        corpus.check_readable(paths[name])
    tokenize.get_tokenizer(tokenizer, user_dict)  # fail early on a bad --user_dict
    options = dict(tokenizer=tokenizer, user_dict=user_dict, num_workers=max(1, num_workers),
                   jieba_hmm=bool(jieba_hmm) and tokenizer == "jieba",
                   skip_bad_lines=skip_bad_lines, progress_every=progress_every,
                   multi_label=bool(multi_label), label_separator=label_separator)
    if multi_label and (not label_separator or label_separator != label_separator.strip()
                        or "\t" in label_separator):
        raise UserError(f"--label_separator={label_separator!r}: it must be non-empty, "
                        "without a TAB, and not begin or end with a space")
    with atomic.replacing_dir(out_dir) as tmp:
        return _prepare_into(paths, tmp, options)


def _prepare_into(paths, tmp, options):
    start = time.monotonic()
    prepared = _prepare_splits(paths, tmp, options)
    counter, labels = prepared["train"].counter, sorted(prepared["train"].labels)
    splits = {}
    for name, split in prepared.items():
        bad = split.bad
        splits[name] = dict(source=os.path.abspath(paths[name]),
                            lines=split.texts,
                            bad_lines=bad.count if bad else 0,
                            bad_line_examples=bad.first if bad else [],
                            bytes=os.path.getsize(paths[name]), sha256=_sha256(paths[name]),
                            labels=dict(sorted(split.labels.items())))
    _note_separators(labels, options)
    vocab.write_counts(os.path.join(tmp, vocab.VOCAB_FILE), counter)
    vocab.write_categories(os.path.join(tmp, vocab.CATEGORIES_FILE), labels)
    manifest = dict(
        textrnn_version=textrnn.__version__,
        tokenizer=options["tokenizer"],
        user_dict=os.path.abspath(options["user_dict"]) if options["user_dict"] else None,
        user_dict_sha256=_sha256(options["user_dict"]) if options["user_dict"] else None,
        jieba_hmm=options["jieba_hmm"],
        skip_bad_lines=options["skip_bad_lines"],
        multi_label=options["multi_label"],
        label_separator=options["label_separator"] if options["multi_label"] else None,
        splits=splits,
        num_classes=len(labels),
        distinct_tokens=len(counter),
        train_tokens=sum(counter.values()),
        seconds=round(time.monotonic() - start, 3),
    )
    with open(os.path.join(tmp, vocab.MANIFEST_FILE), "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=2)
        out.write("\n")
    return manifest


def _note_separators(labels, options):
    """One line when single-label data looks multi-label: labels that hold the separator."""
    separator = options["label_separator"]
    joined = [label for label in labels if separator in label]
    if not options["multi_label"] and joined:
        print(f"note: {len(joined)} of {len(labels)} labels contain {separator!r} (e.g. "
              f"{joined[0]!r}); if those texts have several labels, prepare with "
              "--multi_label", file=sys.stderr)


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    FLAGS = flags.FLAGS
    missing = [f"--{n}" for n in (*SPLITS, "out_dir") if not FLAGS[n].value]
    if missing:
        raise UserError(f"missing required flags: {', '.join(missing)} (see --help)")
    if FLAGS.num_workers < 0:
        raise UserError("--num_workers must be 0 (chosen from the input size) or more")
    paths = {n: FLAGS[n].value for n in SPLITS}
    for name in SPLITS:
        corpus.check_readable(paths[name])
    manifest = prepare(paths, FLAGS.out_dir,
                       tokenizer=FLAGS.tokenizer, user_dict=FLAGS.user_dict,
                       jieba_hmm=FLAGS.jieba_hmm,
                       num_workers=FLAGS.num_workers or default_workers(paths),
                       skip_bad_lines=FLAGS.skip_bad_lines,
                       progress_every=FLAGS.progress_every,
                       multi_label=FLAGS.multi_label, label_separator=FLAGS.label_separator)
    counts = ", ".join(f"{n} {manifest['splits'][n]['lines']:,}" for n in SPLITS)
    train = manifest["splits"]["train"]
    classes = (f"{manifest['num_classes']} labels, "
               f"{sum(train['labels'].values()) / train['lines']:.2f} a train text"
               if manifest["multi_label"] else f"{manifest['num_classes']} classes")
    print(f"prepared {FLAGS.out_dir}: {counts} lines; {classes}; "
          f"{manifest['distinct_tokens']:,} distinct tokens ({manifest['tokenizer']}) "
          f"in {manifest['seconds']:.1f}s")


def run():
    define_flags()
    run_app(main, tensorflow=False)  # prepare is pure Python: no TensorFlow start-up


if __name__ == "__main__":
    run()
