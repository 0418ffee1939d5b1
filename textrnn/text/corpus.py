"""Reading labelled text files (`label<TAB>text`, one example a line; with several
labels a text, `label1|label2<TAB>text`).

The fast path of textrnn-prepare: UTF-8 label<TAB>text files are read here in
spans that workers cut in parallel, naming file:line for bad input. Other
layouts and encodings go through text/formats.py, which checks each record
with this module's rule (check_fields). It streams: memory does not grow with
the file.
"""

import dataclasses
import io
import math
import os
from typing import Iterator

from textrnn.util.errors import UserError, where

_BOM = "\ufeff"


@dataclasses.dataclass
class BadLines:
    """Malformed lines skipped under `skip_bad_lines`, for the manifest."""
    count: int = 0
    first: list = dataclasses.field(default_factory=list)  # up to 10 "file:line: why"

    def add(self, message):
        self.count += 1
        if len(self.first) < 10:
            self.first.append(message)

    def extend(self, other):
        """Append `other`'s lines (those of a later part of the same file)."""
        self.count += other.count
        self.first = (self.first + other.first)[:10]


@dataclasses.dataclass(frozen=True)
class Span:
    """Whole lines of a file: bytes [start, end), the first of them numbered first_line."""
    start: int
    end: int
    first_line: int
    lines: int


def spans(path, target_bytes):
    """Cut `path` into Spans of about `target_bytes` each, at line ends.

    One pass over the file in binary blocks (about a second per GB): the
    line numbers let each part be read on its own while errors still name
    the file's own line.
    """
    size = os.path.getsize(path)
    result, start, first_line = [], 0, 1
    with open(path, "rb") as stream:
        while start < size:
            stream.seek(min(start + max(1, target_bytes), size))
            stream.readline()  # on to the end of the line the cut fell in
            end = min(stream.tell(), size)
            stream.seek(start)
            lines = _count_newlines(stream, end - start)
            if end == size and not _ends_with_newline(stream, size):
                lines += 1
            result.append(Span(start, end, first_line, lines))
            start, first_line = end, first_line + lines
    return result


def _count_newlines(stream, length):
    count = 0
    while length > 0:
        block = stream.read(min(length, 1 << 20))
        if not block:
            break
        count += block.count(b"\n")
        length -= len(block)
    return count


def _ends_with_newline(stream, size):
    stream.seek(size - 1)
    return stream.read(1) == b"\n"


def check_readable(path):
    """Raise a UserError unless `path` is an existing, non-empty file."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise UserError(f"{path}: not a regular file")
    if os.path.getsize(path) == 0:
        raise UserError(f"{path}: the file is empty")


def _decode(raw, path, line_number):
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{where(path, line_number)}: bytes that are not UTF-8 "
            f"(at byte {error.start} of the line); re-encode the file as UTF-8") from None
    if line_number == 1 and line.startswith(_BOM):
        line = line[1:]
    return line.rstrip("\r\n")


def parse_line(line, path, line_number):
    """(label field, text) of one `label<TAB>text` line, checked."""
    if "\x00" in line:
        raise UserError(f"{where(path, line_number)}: a NUL byte inside the line")
    label, tab, text = line.partition("\t")
    if not tab:
        raise UserError(f"{where(path, line_number)}: no TAB between label and text "
                        "(expected 'label<TAB>text')")
    label = label.strip()
    check_fields(label, text, path, line_number)
    return label, text


def check_fields(label, text, path, line_number):
    """Raise a UserError naming path:line for an empty or unusable label or text: the one
    rule every input format is held to."""
    if not label:
        raise UserError(f"{where(path, line_number)}: empty label")
    if any(c.isspace() and c != " " or ord(c) < 32 for c in label):
        # Labels become lines of categories.txt: a line break inside one would
        # shift every class id after it.
        raise UserError(f"{where(path, line_number)}: the label {label!r} contains a control "
                        "or line-break character")
    if "\x00" in text:
        raise UserError(f"{where(path, line_number)}: a NUL byte inside the text")
    if not text.strip():
        raise UserError(f"{where(path, line_number)}: empty text for label {label!r}")


def split_labels(field, separator, path, line_number):
    """The labels of one multi-label line's label field (`a|b|c`), in file order.

    An empty label between separators and a label given twice are errors that
    name the line: both are typing slips a silent fix would hide.
    """
    labels = [label.strip() for label in field.split(separator)]
    if not all(labels):
        raise UserError(f"{where(path, line_number)}: an empty label in {field!r} (labels are "
                        f"separated by {separator!r}, with a label on each side)")
    seen = set()
    for label in labels:
        if label in seen:
            raise UserError(f"{where(path, line_number)}: the label {label!r} is given twice "
                            f"in {field!r}")
        seen.add(label)
    return labels


def _raw_lines(path, span):
    """(line_number, bytes) of the whole file, or of one Span of it."""
    with open(path, "rb") as stream:
        if span is None:
            yield from enumerate(stream, start=1)
            return
        stream.seek(span.start)
        yield from enumerate(io.BytesIO(stream.read(span.end - span.start)),
                             start=span.first_line)


def read_labelled(path, bad_lines=None, span=None) -> Iterator[tuple[int, str, str]]:
    """Yield `(line_number, label, text)` for each line of `path` (or of its `span`).

    Blank lines are ignored. A malformed line raises a UserError naming
    `path:line`, unless `bad_lines` (a BadLines) is given: then it is
    skipped and counted there.
    """
    check_readable(path)
    for line_number, raw in _raw_lines(path, span):
        try:
            line = _decode(raw, path, line_number)
            if not line.strip():
                continue
            label, text = parse_line(line, path, line_number)
        except UserError as error:
            if bad_lines is None:
                raise
            bad_lines.add(str(error))
            continue
        yield line_number, label, text


def sample_every(train_file, max_mb):
    """k such that every k-th train line is at most `max_mb` MB (1: all of train;
    max_mb 0: no bound). A uniform sample bounds the wide path's time and the
    memory its cache of features takes on a corpus of any size."""
    size_mb = os.path.getsize(train_file) / 2**20
    return max(1, math.ceil(size_mb / max_mb)) if max_mb else 1
