"""Reading labelled text files (`label<TAB>text`, one example a line).

This is the one reader of user-supplied raw files: preparation, evaluation
and prediction all go through it, so every tool reports bad input the same
way, naming the file and line. It streams: memory does not grow with the file.
"""

import dataclasses
import os
from typing import Iterator

from textrnn.errors import UserError, where

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


def _parse(line, path, line_number):
    if "\x00" in line:
        raise UserError(f"{where(path, line_number)}: a NUL byte inside the line")
    label, tab, text = line.partition("\t")
    if not tab:
        raise UserError(f"{where(path, line_number)}: no TAB between label and text "
                        "(expected 'label<TAB>text')")
    label = label.strip()
    if not label:
        raise UserError(f"{where(path, line_number)}: empty label")
    if any(c.isspace() and c != " " or ord(c) < 32 for c in label):
        # Labels become lines of categories.txt: a line break inside one would
        # shift every class id after it.
        raise UserError(f"{where(path, line_number)}: the label {label!r} contains a control "
                        "or line-break character")
    if not text.strip():
        raise UserError(f"{where(path, line_number)}: empty text for label {label!r}")
    return label, text


def read_labelled(path, bad_lines=None) -> Iterator[tuple[int, str, str]]:
    """Yield `(line_number, label, text)` for each line of `path`.

    Blank lines are ignored. A malformed line raises a UserError naming
    `path:line`, unless `bad_lines` (a BadLines) is given: then it is
    skipped and counted there.
    """
    check_readable(path)
    with open(path, "rb") as stream:
        for line_number, raw in enumerate(stream, start=1):
            try:
                line = _decode(raw, path, line_number)
                if not line.strip():
                    continue
                label, text = _parse(line, path, line_number)
            except UserError as error:
                if bad_lines is None:
                    raise
                bad_lines.add(str(error))
                continue
            yield line_number, label, text


def read_texts(path) -> Iterator[tuple[int, str]]:
    """Yield `(line_number, text)` for unlabelled input, one text a line."""
    check_readable(path)
    with open(path, "rb") as stream:
        for line_number, raw in enumerate(stream, start=1):
            yield line_number, _decode(raw, path, line_number)
