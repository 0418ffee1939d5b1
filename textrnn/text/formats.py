"""The labelled files people have, read into one kind of record.

    tsv       label<TAB>text a line (label1|label2<TAB>text with several labels)
    csv       a header row, then rows; the text and label columns are named
              (quoted fields may hold commas and line breaks)
    jsonl     one JSON object a line: {"text": ..., "label": ...}; the label may be
              a list (several labels a text)
    fasttext  __label__a __label__b text

`auto` chooses by extension (.csv, .jsonl/.ndjson/.json, else tsv unless the first
line starts with __label__). Any encoding Python decodes line by line works;
GB18030 is what Excel writes on a Chinese system. Every record is checked the
same way whatever the format (text.corpus.check_fields), and a bad one stops
the reader with its file:line.

`split_stratified` cuts one file's records into train/val/test for the user
who has only one file.
"""

import csv
import dataclasses
import json
import os
import re

import numpy as np

from textrnn.text import corpus
from textrnn.util.errors import UserError, where
from textrnn.util.settings import setting

FORMATS = ("auto", "tsv", "csv", "jsonl", "fasttext")
FASTTEXT_PREFIX = "__label__"
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
# Line breaks and TABs inside a CSV or JSON text become spaces in the one-line layout
# the rest of the pipeline reads: a space is the nearest thing that line can hold.
_BREAKS = re.compile(r"[\t\r\n]+")


@dataclasses.dataclass
class FileFormat:
    """How a labelled (or unlabelled) input file is laid out and encoded."""
    format: str = setting(
        "auto", "Layout of the input files: tsv ('label<TAB>text'), csv (a header row; "
        "see --text_column, --label_column), jsonl (one JSON object a line), fasttext "
        "('__label__a __label__b text'); auto: by extension (.csv, .jsonl/.ndjson/.json, "
        "else tsv, or fasttext when the first line starts with __label__).",
        choices=FORMATS)
    encoding: str = setting(
        "utf-8", "Text encoding of the input files, e.g. gb18030 (what Excel on a Chinese "
        "system writes). A byte-order mark is skipped.")
    text_column: str = setting("text", "The text's column (csv) or key (jsonl).")
    label_column: str = setting(
        "label", "The label's column (csv) or key (jsonl; its value may be a list of "
        "labels with --multi_label).")

    def check(self):
        """Raise a UserError for an encoding Python does not know."""
        import codecs
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise UserError(f"--encoding={self.encoding}: not an encoding Python knows "
                            "(e.g. utf-8, gb18030)") from None

    def of(self, path):
        """The concrete format of `path` (`format`, or the one `auto` finds)."""
        if self.format != "auto":
            return self.format
        extension = os.path.splitext(path)[1].lower()
        if extension in _EXTENSIONS:
            return _EXTENSIONS[extension]
        return "fasttext" if _first_line(path, self.encoding).startswith(FASTTEXT_PREFIX) \
            else "tsv"

    def is_plain(self, path):
        """Whether `path` is label<TAB>text in UTF-8: what textrnn-prepare reads as it is."""
        return _is_utf8(self.encoding) and self.of(path) == "tsv"


@dataclasses.dataclass(frozen=True)
class Record:
    """One labelled text: `labels` a tuple (one label unless several a text), and where
    it came from, for messages."""
    labels: tuple
    text: str
    path: str
    line: int

    @property
    def where(self):
        return where(self.path, self.line)


def _is_utf8(encoding):
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _first_line(path, encoding):
    corpus.check_readable(path)
    with open(path, "rb") as stream:
        for line_number, raw in enumerate(stream, start=1):
            line = _decode(raw, path, line_number, encoding).strip()
            if line:
                return line
    return ""


def _decode(raw, path, line_number, encoding):
    """One line of bytes as text, with an error naming file:line when it does not decode."""
    try:
        line = raw.decode(encoding)
    except UnicodeDecodeError as error:
        utf8 = _is_utf8(encoding)
        hint = (" (files saved by Excel on a Chinese system are usually GB18030: try "
                "--encoding=gb18030)" if utf8 else "")
        raise UserError(f"{where(path, line_number)}: bytes that are not "
                        f"{'UTF-8' if utf8 else encoding} (at byte {error.start} of the "
                        f"line){hint}") from None
    return line[1:] if line_number == 1 and line.startswith("\ufeff") else line


def _lines(path, encoding):
    """(line number, decoded line with its line break) of a file."""
    corpus.check_readable(path)
    with open(path, "rb") as stream:
        for line_number, raw in enumerate(stream, start=1):
            yield line_number, _decode(raw, path, line_number, encoding)


def read_labelled(path, file_format=FileFormat(), multi_label=False, separator="|"):
    """Yield a Record for each labelled text of `path`, whatever its format.

    With `multi_label`, a label field of tsv/csv holds labels separated by
    `separator`, a jsonl label may be a list, and a fasttext line may carry several
    __label__s; without it, several labels on one text are an error that says so.
    """
    file_format.check()
    kind = file_format.of(path)
    read = {"tsv": _tsv, "csv": _csv, "jsonl": _jsonl, "fasttext": _fasttext}[kind]
    for line_number, labels, text in read(path, file_format):
        yield _record(path, line_number, labels, text, multi_label, separator)


def one_line(text):
    """`text` with its TABs and line breaks as spaces: one line of label<TAB>text."""
    return _BREAKS.sub(" ", text)


def _record(path, line_number, labels, text, multi_label, separator):
    """A checked Record from one text and its label field(s)."""
    text = one_line(text)
    if isinstance(labels, str):
        if multi_label:
            labels = corpus.split_labels(labels, separator, path, line_number)
        else:
            labels = [labels]
    labels = [label.strip() for label in labels]
    if len(labels) > 1 and not multi_label:
        raise UserError(f"{where(path, line_number)}: {len(labels)} labels for one text; "
                        "prepare with --multi_label for several labels a text")
    if not labels:
        raise UserError(f"{where(path, line_number)}: no label")
    for label in labels:
        corpus.check_fields(label, text, path, line_number)
        if multi_label and separator in label:
            raise UserError(f"{where(path, line_number)}: the label {label!r} contains the "
                            f"label separator {separator!r}")
    return Record(tuple(labels), text, path, line_number)


def _tsv(path, file_format):
    for line_number, line in _lines(path, file_format.encoding):
        line = line.rstrip("\r\n")
        if line.strip():
            yield (line_number, *corpus.parse_line(line, path, line_number))


def _csv_rows(path, encoding):
    """(first line number, fields) of each CSV row; a row may span several lines."""
    numbered = _lines(path, encoding)
    starts = []

    def lines():
        for line_number, line in numbered:
            starts.append(line_number)
            yield line
    reader = csv.reader(lines(), strict=True)
    while True:
        consumed = len(starts)
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UserError(f"{where(path, starts[consumed] if len(starts) > consumed else consumed)}"
                            f": not valid CSV ({error})") from None
        if fields:
            yield starts[consumed], fields


def _csv(path, file_format):
    rows = _csv_rows(path, file_format.encoding)
    header_line, header = next(rows, (1, []))
    header = [name.strip() for name in header]
    columns = {}
    for name in (file_format.text_column, file_format.label_column):
        if name not in header:
            raise UserError(f"{where(path, header_line)}: the header has no column {name!r} "
                            f"(its columns: {', '.join(map(repr, header))}); name the columns "
                            "with --text_column and --label_column")
        columns[name] = header.index(name)
    for line_number, fields in rows:
        if len(fields) != len(header):
            raise UserError(f"{where(path, line_number)}: {len(fields)} fields where the "
                            f"header has {len(header)} (a comma inside a text needs the text "
                            "in double quotes)")
        yield (line_number, fields[columns[file_format.label_column]],
               fields[columns[file_format.text_column]])


def _jsonl(path, file_format):
    text_key, label_key = file_format.text_column, file_format.label_column
    for line_number, line in _lines(path, file_format.encoding):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(f"{where(path, line_number)}: not JSON ({error.msg} at column "
                            f"{error.colno})") from None
        if not isinstance(value, dict):
            raise UserError(f"{where(path, line_number)}: a JSON {type(value).__name__} where "
                            "an object is expected ({\"text\": ..., \"label\": ...})")
        for key in (text_key, label_key):
            if key not in value:
                raise UserError(f"{where(path, line_number)}: no key {key!r} (the object has "
                                f"{', '.join(map(repr, value)) or 'no keys'}); name the keys "
                                "with --text_column and --label_column")
        text, labels = value[text_key], value[label_key]
        if not isinstance(text, str):
            raise UserError(f"{where(path, line_number)}: {text_key!r} is a JSON "
                            f"{type(text).__name__}, not a string")
        yield line_number, _json_labels(labels, path, line_number, label_key), text


def _json_labels(labels, path, line_number, key):
    """A JSON label value as a list of strings (numbers are written as text)."""
    items = labels if isinstance(labels, list) else [labels]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise UserError(f"{where(path, line_number)}: {key!r} holds {json.dumps(item)}; a "
                            "label is a string (or a whole number), several labels a list "
                            "of them")
        out.append(str(item))
    return out if isinstance(labels, list) else out[0]


def _fasttext(path, file_format):
    for line_number, line in _lines(path, file_format.encoding):
        words = line.strip().split(" ")
        if not words[0]:
            continue
        labels = []
        while words and words[0].startswith(FASTTEXT_PREFIX):
            labels.append(words.pop(0)[len(FASTTEXT_PREFIX):])
        if not labels:
            raise UserError(f"{where(path, line_number)}: no {FASTTEXT_PREFIX} label at the "
                            "start of the line")
        yield line_number, labels, " ".join(words)


def read_texts(path, file_format=FileFormat()):
    """Yield (line number, text) of unlabelled input: one text a line for tsv (the whole
    line) and fasttext (any __label__s dropped), the text column of csv and jsonl."""
    file_format.check()
    kind = file_format.of(path)
    if kind == "tsv":
        for line_number, line in _lines(path, file_format.encoding):
            yield line_number, line.rstrip("\r\n")
        return
    if kind == "fasttext":
        for line_number, line in _lines(path, file_format.encoding):
            words = line.strip().split(" ")
            while words and words[0].startswith(FASTTEXT_PREFIX):
                words.pop(0)
            yield line_number, " ".join(words)
        return
    read = _csv if kind == "csv" else _jsonl
    unlabelled = dataclasses.replace(file_format, label_column=file_format.text_column)
    for line_number, _, text in read(path, unlabelled):
        yield line_number, one_line(text)


def write_tsv(records, path, separator="|"):
    """Records as label<TAB>text lines (UTF-8): the layout textrnn-prepare reads."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(f"{separator.join(record.labels)}\t{record.text}\n")


def parse_split(text):
    """'0.8,0.1,0.1' as three shares that add up to 1 (train > 0, val > 0)."""
    try:
        shares = [float(part) for part in text.split(",")]
    except ValueError:
        shares = []
    if len(shares) != 3 or min(shares) < 0 or shares[0] <= 0 or shares[1] <= 0 \
            or abs(sum(shares) - 1.0) > 1e-6:
        raise UserError(f"--split={text}: three shares of train, val and test that add up "
                        "to 1, train's and val's above 0, e.g. 0.8,0.1,0.1")
    return tuple(shares)


def split_stratified(records, shares, seed):
    """{'train', 'val', 'test'}: records cut by `shares` within each class (a text's first
    label), shuffled with `seed`, each part in input order. Every class keeps at least one
    text in train, so val and test hold no label train lacks."""
    by_class = {}
    for i, record in enumerate(records):
        by_class.setdefault(record.labels[0], []).append(i)
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for label in sorted(by_class):
        members = np.array(by_class[label])
        rng.shuffle(members)
        n = len(members)
        n_val = min(int(round(n * shares[1])), n - 1)
        n_test = min(int(round(n * shares[2])), n - 1 - n_val)
        parts["val"] += members[:n_val].tolist()
        parts["test"] += members[n_val:n_val + n_test].tolist()
        parts["train"] += members[n_val + n_test:].tolist()
    return {name: [records[i] for i in sorted(indices)] for name, indices in parts.items()}
