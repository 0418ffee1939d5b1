"""`textrnn-prepare`: raw labelled files -> tokenized splits, vocabulary, categories.

Output folder (written to a temporary sibling, renamed into place at the end,
so an error or a kill never leaves a half-written `--out_dir`):

    train.txt val.txt test.txt   label<TAB>tok tok tok
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
from textrnn import atomic, corpus, tokenize, vocab
from textrnn.console import Progress
from textrnn.errors import UserError, run_app
from textrnn.parallel import ordered_map

SPLITS = ("train", "val", "test")

def define_flags():
    """Flags of textrnn-prepare."""
    flags.DEFINE_string("train", None, "Raw training file, 'label<TAB>text' a line (cnews layout), UTF-8.")
    flags.DEFINE_string("val", None, "Raw validation file, same layout as --train.")
    flags.DEFINE_string("test", None, "Raw test file, same layout as --train.")
    flags.DEFINE_string("out_dir", None, "Folder to write the prepared data to (replaced as a whole).")
    flags.DEFINE_enum("tokenizer", "jieba", tokenize.TOKENIZERS,
                      "jieba: word segmentation (as the original); char: one token per character; "
                      "bigram: characters, and the model embeds each pair of adjacent ones.")
    flags.DEFINE_string("user_dict", None, "Optional jieba user dictionary (jieba's format).")
    flags.DEFINE_bool("jieba_hmm", False, "Let jieba's HMM join characters it has no word for. "
                      "Off by default: the exported SavedModel then cuts raw text itself, "
                      "exactly as prepare did; a model prepared with the HMM exports a "
                      "SavedModel that takes text already cut by jieba (HMM on) instead.")
    flags.DEFINE_integer("num_workers", 0, "Processes that tokenize in parallel. 0: chosen from "
                         "the input size: one below PARALLEL_MIN_MB of input (starting workers "
                         "costs more than they save there), every core above it.")
    flags.DEFINE_bool("skip_bad_lines", False,
                      "Skip malformed lines (no TAB, empty label or text, bad UTF-8) and count "
                      "them in the manifest, instead of stopping at the first one.")
    flags.DEFINE_integer("progress_every", 20000, "Report progress every this many lines (0: never).")


# Each worker reads, cuts, writes and counts a span of the file on its own,
# so the parent only merges: with two cores the parent's share of the work
# had held two workers to ~1.6-1.75x. Spans small enough for steady progress
# lines and an even split between workers, large enough that starting one
# (a read, a pickled vocabulary count back) is cheap.
_SPAN_MIN_BYTES, _SPAN_MAX_BYTES, _SPANS_PER_WORKER = 256 << 10, 4 << 20, 16
# Below this much input (train + val + test), one process is as fast or faster
# than two (jieba, two cores: 0.72-0.86x at 3 MB, 1.3x at 9 MB, 1.55x at 17 MB,
# 1.75x at 100 MB; benchmarks/prepare_speed.py --sizes_mb, BENCHMARKS.md).
PARALLEL_MIN_MB = 8


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
    path: str
    span: corpus.Span
    part_path: str
    options: dict
    known_labels: frozenset | None  # None for train, which defines the labels
    count_vocab: bool


@dataclasses.dataclass
class _SpanResult:
    labels: collections.Counter
    unknown: dict  # label -> its first line number
    bad: corpus.BadLines | None
    counter: collections.Counter | None


def _prepare_span(task):
    """Worker: cut one span of a raw file into task.part_path; count what it saw."""
    options = task.options
    cut = tokenize.get_tokenizer(options["tokenizer"], options["user_dict"], options["jieba_hmm"])
    bad = corpus.BadLines() if options["skip_bad_lines"] else None
    result = _SpanResult(collections.Counter(), {}, bad,
                         collections.Counter() if task.count_vocab else None)
    with open(task.part_path, "w", encoding="utf-8", newline="\n") as out:
        for line_number, label, text in corpus.read_labelled(task.path, bad, task.span):
            if task.known_labels is not None and label not in task.known_labels:
                result.unknown.setdefault(label, line_number)
            tokens = cut(text)
            joined = " ".join(tokens)
            if not joined:
                message = f"{task.path}:{line_number}: the text has no tokens"
                if bad is None:
                    raise UserError(message)
                bad.add(message)
                continue
            out.write(f"{label}\t{joined}\n")
            result.labels[label] += 1
            if result.counter is not None:
                result.counter.update(tokenize.vocabulary_units(options["tokenizer"], tokens))
    return result


def _span_bytes(path, num_workers):
    size = os.path.getsize(path)
    return min(_SPAN_MAX_BYTES, max(_SPAN_MIN_BYTES, size // (num_workers * _SPANS_PER_WORKER)))


def _prepare_split(name, path, out_path, options, known_labels, counter):
    """Tokenize one split into out_path; count tokens into counter (train only).

    Returns (line count, BadLines, labels seen). Raises UserError for a label
    that train does not have, listing each unknown label and its first line.
    """
    parts = corpus.spans(path, _span_bytes(path, options["num_workers"]))
    tasks = (_SpanTask(path, span, f"{out_path}.part{i}", options,
                       frozenset(known_labels) if known_labels is not None else None,
                       counter is not None) for i, span in enumerate(parts))
    bad = corpus.BadLines() if options["skip_bad_lines"] else None
    labels, unknown = collections.Counter(), {}
    progress = Progress(f"  {name}", sum(s.lines for s in parts) if options["progress_every"]
                        else None, every=options["progress_every"])
    with open(out_path, "wb") as out:
        results = ordered_map(_prepare_span, tasks, options["num_workers"])
        for i, (span, part) in enumerate(zip(parts, results)):
            with open(f"{out_path}.part{i}", "rb") as stream:
                shutil.copyfileobj(stream, out)
            os.remove(f"{out_path}.part{i}")
            labels.update(part.labels)
            for label, line_number in part.unknown.items():
                unknown.setdefault(label, line_number)
            if bad is not None:
                bad.extend(part.bad)
            if counter is not None:
                counter.update(part.counter)
            progress.add(span.lines)
    if unknown:
        listed = "; ".join(f"{label!r} (first at {path}:{n})" for label, n in unknown.items())
        raise UserError(f"{path}: labels that the training file does not have: {listed}")
    if not labels:
        raise UserError(f"{path}: no usable lines")
    if bad is not None and bad.count:
        print(f"warning: {path}: skipped {bad.count} bad lines, first: {bad.first[0]}",
              file=sys.stderr)
    return sum(labels.values()), bad, labels


def prepare(paths, out_dir, tokenizer="jieba", user_dict=None, num_workers=1,
            skip_bad_lines=False, progress_every=20000, jieba_hmm=False):
    """Prepare `paths` ({'train': ..., 'val': ..., 'test': ...}) into out_dir.

    The result appears in out_dir only when everything succeeded.
    Returns the manifest dict.
    """
    for name in SPLITS:
        corpus.check_readable(paths[name])
    tokenize.get_tokenizer(tokenizer, user_dict)  # fail early on a bad --user_dict
    options = dict(tokenizer=tokenizer, user_dict=user_dict, num_workers=max(1, num_workers),
                   jieba_hmm=bool(jieba_hmm) and tokenizer == "jieba",
                   skip_bad_lines=skip_bad_lines, progress_every=progress_every)
    with atomic.replacing_dir(out_dir) as tmp:
        return _prepare_into(paths, tmp, options)


def _prepare_into(paths, tmp, options):
    start = time.monotonic()
    counter = collections.Counter()
    splits, labels = {}, None
    for name in SPLITS:
        lines, bad, seen = _prepare_split(
            name, paths[name], os.path.join(tmp, f"{name}.txt"), options,
            known_labels=labels, counter=counter if name == "train" else None)
        if name == "train":
            labels = sorted(seen)
        splits[name] = dict(source=os.path.abspath(paths[name]), lines=lines,
                            bad_lines=bad.count if bad else 0,
                            bad_line_examples=bad.first if bad else [],
                            bytes=os.path.getsize(paths[name]), sha256=_sha256(paths[name]),
                            labels=dict(sorted(seen.items())))
    vocab.write_counts(os.path.join(tmp, vocab.VOCAB_FILE), counter)
    vocab.write_categories(os.path.join(tmp, vocab.CATEGORIES_FILE), labels)
    manifest = dict(
        textrnn_version=textrnn.__version__,
        tokenizer=options["tokenizer"],
        user_dict=os.path.abspath(options["user_dict"]) if options["user_dict"] else None,
        user_dict_sha256=_sha256(options["user_dict"]) if options["user_dict"] else None,
        jieba_hmm=options["jieba_hmm"],
        skip_bad_lines=options["skip_bad_lines"],
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
                       progress_every=FLAGS.progress_every)
    counts = ", ".join(f"{n} {manifest['splits'][n]['lines']:,}" for n in SPLITS)
    print(f"prepared {FLAGS.out_dir}: {counts} lines; {manifest['num_classes']} classes; "
          f"{manifest['distinct_tokens']:,} distinct tokens ({manifest['tokenizer']}) "
          f"in {manifest['seconds']:.1f}s")


def run():
    define_flags()
    run_app(main, tensorflow=False)  # prepare is pure Python: no TensorFlow start-up


if __name__ == "__main__":
    run()
