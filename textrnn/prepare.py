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
import hashlib
import json
import os
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


_CHUNK = 256  # lines per task sent to a worker: large enough to amortise pickling
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


def _tokenize_chunk(task):
    """Worker: (tokenizer name, user dict, HMM, [(line, label, text)]) -> [(line, label, tokens)]."""
    name, user_dict, hmm, rows = task
    cut = tokenize.get_tokenizer(name, user_dict, hmm)
    return [(n, label, " ".join(cut(text))) for n, label, text in rows]


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_lines(path):
    """Lines in a file, counted in binary blocks: the progress total (~1 s per GB)."""
    count, last = 0, b"\n"
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _prepare_split(name, path, out_path, options, known_labels, counter):
    """Tokenize one split into out_path; count tokens into counter (train only).

    Returns (line count, BadLines, labels seen). Raises UserError for a label
    that train does not have, listing each unknown label and its first line.
    """
    bad = corpus.BadLines() if options["skip_bad_lines"] else None
    rows = corpus.read_labelled(path, bad)
    tasks = ((options["tokenizer"], options["user_dict"], options["jieba_hmm"], chunk)
             for chunk in _chunks(rows, _CHUNK))
    labels, unknown, lines = collections.Counter(), {}, 0
    progress = Progress(f"  {name}", _count_lines(path) if options["progress_every"] else None,
                        every=options["progress_every"])
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        for chunk in ordered_map(_tokenize_chunk, tasks, options["num_workers"]):
            for line_number, label, tokens in chunk:
                if known_labels is not None and label not in known_labels:
                    unknown.setdefault(label, line_number)
                if not tokens:
                    if bad is None:
                        raise UserError(f"{path}:{line_number}: the text has no tokens")
                    bad.add(f"{path}:{line_number}: the text has no tokens")
                    continue
                out.write(f"{label}\t{tokens}\n")
                labels[label] += 1
                if counter is not None:
                    counter.update(tokenize.vocabulary_units(options["tokenizer"],
                                                             tokens.split(" ")))
            lines += len(chunk)
            progress.add(len(chunk))
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
