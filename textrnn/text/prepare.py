"""Preparing labelled text for training: raw splits -> tokenized splits, vocabulary,
categories and a manifest, in one folder.

Output folder (written to a temporary sibling, renamed into place at the end,
so an error or a kill never leaves a half-written folder):

    train.txt val.txt test.txt   label<TAB>tok tok tok (multi-label: label1|label2<TAB>...)
    vocab.txt                    token<TAB>count, train only, <PAD> and <UNK> first
    categories.txt               labels of train, one a line
    manifest.json                tokenizer, options, counts, input checksums (text/manifest.py)
    raw/                         the inputs as label<TAB>text, when they came in another
                                 format or encoding, were split from one file, or from Python

No frequency threshold is applied here: training applies it when loading.
The command is textrnn/prepare.py; TextClassifier.fit prepares through
`prepare_records`.
"""

import collections
import dataclasses
import hashlib
import json
import os
import shutil
import time

import textrnn
from textrnn.text import corpus
from textrnn.text import formats
from textrnn.text import tokenize
from textrnn.text import vocab
from textrnn.util import atomic
from textrnn.util.console import Progress, say
from textrnn.util.errors import UserError
from textrnn.util.parallel import ordered_map

SPLITS = ("train", "val", "test")
RAW_DIR = "raw"  # the inputs as label<TAB>text, when they were converted or split
PROGRESS_SECONDS = 5.0  # fast tokenizers pass 20,000 lines many times a second


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
            say(f"warning: {path}: skipped {self.bad.count} bad lines, first: "
                f"{self.bad.first[0]}")


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
            label_separator="|", file_format=None, split=None, split_seed=1,
            corrections=None):
    """Prepare labelled files into out_dir; returns the manifest dict.

    `paths`: {'train': ..., 'val': ..., 'test': ...}, or {'train': ...} alone with
    `split` (shares of train, val and test, e.g. (0.8, 0.1, 0.1)): the file is cut
    by class with `split_seed` and the parts written to out_dir/raw/. Files in
    another layout or encoding than UTF-8 label<TAB>text (`file_format`, a
    formats.FileFormat) are read into out_dir/raw/ first. The result appears in
    out_dir only when everything succeeded. `corrections`: a label_issues.tsv the
    user edited (text/corrections.py), applied to the files' texts before anything
    else, the counts said and kept in the manifest.
    """
    file_format = file_format or formats.FileFormat()
    options = _options(tokenizer, user_dict, num_workers, skip_bad_lines, progress_every,
                       jieba_hmm, multi_label, label_separator)
    given = [name for name in SPLITS if paths.get(name)]
    if split is None and given != list(SPLITS):
        raise UserError("give --train, --val and --test, or --train alone to have it split "
                        "(--split)")
    for name in given:
        corpus.check_readable(paths[name])
    if split is None and not corrections and all(file_format.is_plain(paths[name])
                                                 for name in SPLITS):
        with atomic.replacing_dir(out_dir) as tmp:
            return _prepare_into(paths, tmp, options, _file_origins(paths))
    if split is not None and given != ["train"]:
        raise UserError("--split cuts one file: give --train alone with it")
    records = {name: list(formats.read_labelled(paths[name], file_format, options["multi_label"],
                                                label_separator)) for name in given}
    origins = _file_origins(paths)
    if corrections:
        records, counts = _corrected(records, corrections, options["multi_label"])
        origins["train"]["corrections"] = dict(file=os.path.abspath(corrections), **counts)
    if split is not None:
        records = formats.split_stratified(records["train"], split, split_seed)
        origins = {name: dict(origins["train"], split=dict(
            shares=list(split), seed=split_seed, part=name)) for name in SPLITS}
        say(f"split {paths['train']} by class ({split_seed=}): "
            + ", ".join(f"{name} {len(records[name]):,}" for name in SPLITS))
    for name in origins:
        origins[name].update(format=file_format.of(paths.get(name) or paths["train"]),
                             encoding=file_format.encoding)
    return prepare_records(records, out_dir, origins, **options)


def _corrected(records, path, multi_label):
    """The records with the corrections of `path` applied, and their counts (said)."""
    from textrnn.text import corrections
    if multi_label:
        raise UserError("--corrections: corrections are for one label a text")
    records, counts = corrections.apply(records, corrections.read(path), path)
    say(f"corrections from {path}: {counts['relabelled']:,} relabelled, "
        f"{counts['dropped']:,} dropped, {counts['unchanged']:,} left as they were")
    return records, counts


def prepare_records(records, out_dir, origins=None, **options):
    """Prepare formats.Records ({'train': [...], 'val': [...], 'test': [...]}) into out_dir:
    they are written to out_dir/raw/ as label<TAB>text and prepared from there.

    `test` may be missing (TextClassifier.fit has none): val then stands in for it
    and the manifest says so (`test_is_val`), so nothing reports a test score.
    `origins`: what the manifest records as each split's source.
    """
    options = _options(**options)
    if not records.get("train") or not records.get("val"):
        raise UserError("no training texts" if not records.get("train") else
                        "no validation texts")
    test_is_val = not records.get("test")
    _check_known_labels(records, test_is_val)
    with atomic.replacing_dir(out_dir) as tmp:
        raw = os.path.join(tmp, RAW_DIR)
        os.makedirs(raw)
        paths = {}
        for name in SPLITS:
            paths[name] = os.path.join(raw, f"{name}.txt")
            formats.write_tsv(records["val" if name == "test" and test_is_val else name],
                              paths[name], options["label_separator"])
        origins = origins or {name: dict(source="<python>") for name in SPLITS}
        for name in SPLITS:
            origins.setdefault(name, dict(source="<python>"))["raw_file"] = \
                os.path.join(RAW_DIR, f"{name}.txt")
        manifest = _prepare_into(paths, tmp, options, origins, test_is_val)
    return manifest


def _options(tokenizer="jieba", user_dict=None, num_workers=1, skip_bad_lines=False,
             progress_every=20000, jieba_hmm=False, multi_label=False, label_separator="|"):
    """The preparing options as one checked dict (what the workers are sent)."""
    tokenize.get_tokenizer(tokenizer, user_dict)  # fail early on a bad --user_dict
    if multi_label and (not label_separator or label_separator != label_separator.strip()
                        or "\t" in label_separator):
        raise UserError(f"--label_separator={label_separator!r}: it must be non-empty, "
                        "without a TAB, and not begin or end with a space")
    return dict(tokenizer=tokenizer, user_dict=user_dict, num_workers=max(1, num_workers),
                jieba_hmm=bool(jieba_hmm) and tokenizer == "jieba",
                skip_bad_lines=skip_bad_lines, progress_every=progress_every,
                multi_label=bool(multi_label), label_separator=label_separator)


def _file_origins(paths):
    """The manifest's record of each input file: path, size and checksum."""
    return {name: dict(source=os.path.abspath(path), bytes=os.path.getsize(path),
                       sha256=_sha256(path)) for name, path in paths.items() if path}


def _check_known_labels(records, test_is_val):
    """Raise a UserError naming file:line for labels of val or test that train lacks."""
    known = {label for record in records["train"] for label in record.labels}
    for name in ("val",) if test_is_val else ("val", "test"):
        unknown = {}
        for record in records[name]:
            for label in record.labels:
                if label not in known:
                    unknown.setdefault(label, record.where)
        if unknown:
            listed = "; ".join(f"{label!r} (first at {at})" for label, at in
                               list(unknown.items())[:10])
            more = f"; and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise UserError(f"{name}: labels that the training texts do not have: "
                            f"{listed}{more}")


def _prepare_into(paths, tmp, options, origins, test_is_val=False):
    start = time.monotonic()
    prepared = _prepare_splits(paths, tmp, options)
    counter, labels = prepared["train"].counter, sorted(prepared["train"].labels)
    splits = {}
    for name, split in prepared.items():
        bad = split.bad
        splits[name] = dict(origins[name], lines=split.texts,
                            bad_lines=bad.count if bad else 0,
                            bad_line_examples=bad.first if bad else [],
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
        test_is_val=test_is_val,
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
        say(f"note: {len(joined)} of {len(labels)} labels contain {separator!r} (e.g. "
            f"{joined[0]!r}); if those texts have several labels, prepare with "
            "--multi_label")
