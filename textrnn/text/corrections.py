"""Corrections to a labelled corpus: label_issues.tsv (textrnn-audit's) as the user
edited it, applied by `textrnn-prepare --corrections`.

Each row names a text by `file` and `line` (as the audit read them; a relative path
from where the audit ran) and gives, in `suggested`, its new label or DROP to
remove it. Rows the user deleted change nothing. A row whose `given` label or
`text` no longer match the file's line is an error that names the row: the file
changed since the audit, and the correction may no longer be about that text.
"""

import csv
import dataclasses
import os

from textrnn.util.errors import UserError, where

HEADER = ("file", "line", "given", "suggested", "score", "text")
DROP = "DROP"


@dataclasses.dataclass
class Correction:
    row: int        # its line in the corrections file, for messages
    given: str
    new: str        # a label, or DROP
    text: str


def read(path):
    """{(real path, line): Correction} of a corrections file."""
    from textrnn.text import corpus
    corpus.check_readable(path)
    found = {}
    with open(path, encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream, delimiter="\t")
        header = next(rows, None)
        if header is None or tuple(header[:len(HEADER)]) != HEADER:
            raise UserError(f"{where(path, 1)}: expected the header of textrnn-audit's "
                            f"label_issues.tsv: {' '.join(HEADER)}")
        for number, row in enumerate(rows, start=2):
            if not any(row):
                continue
            if len(row) < len(HEADER):
                raise UserError(f"{where(path, number)}: expected {len(HEADER)} TAB-separated "
                                f"fields ({', '.join(HEADER)}), got {len(row)}")
            file, line, given, new, _, text = row[:len(HEADER)]
            if not line.isdigit() or not new.strip():
                raise UserError(f"{where(path, number)}: expected a line number and a new "
                                f"label (or {DROP}) in `suggested`")
            key = (os.path.realpath(file), int(line))
            if key in found:
                raise UserError(f"{where(path, number)}: {file}:{line} is corrected twice "
                                f"(also on line {found[key].row})")
            found[key] = Correction(number, given.strip(), new.strip(), text)
    return found


def apply(records, corrections, path):
    """(records with the corrections applied, {relabelled, dropped, unchanged}): `records`
    {split: [formats.Record]}; every correction must find its text."""
    from textrnn.text.formats import one_line
    out, counts, used = {}, dict(relabelled=0, dropped=0, unchanged=0), set()
    for split, kept in records.items():
        out[split] = []
        for record in kept:
            key = (os.path.realpath(record.path), record.line)
            fix = corrections.get(key)
            if fix is None:
                out[split].append(record)
                continue
            used.add(key)
            if fix.given != record.labels[0] or one_line(fix.text) != record.text:
                raise UserError(f"{where(path, fix.row)}: {record.where} now reads "
                                f"{record.labels[0]!r} {record.text[:30]!r}, not "
                                f"{fix.given!r} {fix.text[:30]!r}: the file changed since "
                                "the audit")
            if fix.new == DROP:
                counts["dropped"] += 1
                continue
            counts["unchanged" if fix.new == record.labels[0] else "relabelled"] += 1
            out[split].append(dataclasses.replace(record, labels=(fix.new,)))
    missing = [c for key, c in corrections.items() if key not in used]
    if missing:
        first = min(missing, key=lambda c: c.row)
        raise UserError(f"{where(path, first.row)}: no such line among the files given "
                        f"({len(missing)} correction(s) found no text)")
    return out, counts
