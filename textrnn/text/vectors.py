"""Pretrained token vectors, streamed from the files people download.

Reads word2vec's text format (`token v1 ... vD` a line, with or without the
`N D` header line; `.vec`, `.txt`), gzip-compressed or not (told by the
file's first bytes, whatever its name), and word2vec's binary format
(`.bin`, `.bin.gz`). Files of millions of rows are streamed: only the rows of
the tokens asked for are parsed and kept, plus up to `max_added` further
tokens in file order (such files list the most frequent first), which give
meaning to tokens train never saw. Every row's number of values is checked;
values are parsed for the rows kept. Several readers' rows come from one pass
(`load_many`), and `save_copy` keeps rows for a reader later in the run
(`read_copy`, `select`), so a file of gigabytes is streamed once.
"""

import dataclasses
import gzip
import os

import numpy as np

from textrnn.text import tokenize
from textrnn.util.errors import UserError, where

PROGRESS_ROWS = 1_000_000


@dataclasses.dataclass
class Vectors:
    """The kept rows of a vectors file."""
    path: str
    dim: int
    tokens: list      # kept tokens, in file order
    matrix: np.ndarray  # [len(tokens), dim] float32
    rows_read: int


@dataclasses.dataclass
class Request:
    """Which rows of a vectors file to keep: those of the tokens in `wanted`, and up
    to `max_added` others for which `can_add(token)` holds, in file order."""
    wanted: frozenset
    max_added: int = 0
    can_add: object = None  # token -> bool; None: any token

    def __post_init__(self):
        self.wanted = frozenset(self.wanted)
        self.can_add = self.can_add or (lambda token: True)


def load(path, wanted, max_added=0, can_add=None):
    """The vectors of the tokens in `wanted`, and of up to `max_added` others for which
    `can_add(token)` holds (default: any), in file order."""
    return load_many(path, [Request(wanted, max_added, can_add)])[0]


def load_many(path, requests):
    """One Vectors per Request, from a single pass over the file: a file of
    millions of rows is read once, whoever needs its rows."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    with _open(path) as stream:
        rows = (_binary_rows if _is_binary(path) else _text_rows)(path, stream)
        return _keep(path, rows, requests)


def select(kept, request):
    """The rows of Vectors `kept` that `request` keeps, as `load` would keep them from
    the file when `kept` holds every row the request could keep (in file order)."""
    if not kept.tokens:
        return kept
    rows = ((token, lambda row=row: row, kept.dim) for token, row in zip(kept.tokens,
                                                                         kept.matrix))
    return _keep(kept.path, rows, [request])[0]


def is_character(token):
    """A token a character model can give (one character, not whitespace): the rows
    the wide path's mean vectors use."""
    return tokenize.can_produce("char", token)


def save(kept, tokens_file, matrix_file):
    """Write Vectors `kept`: its tokens one a line (line number == row) and its
    float32 matrix (.npy)."""
    with open(tokens_file, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(f"{token}\n" for token in kept.tokens)
    np.save(matrix_file, kept.matrix.astype(np.float32))


def read(path, tokens_file, matrix_file):
    """The Vectors `save` wrote, as rows of the file at `path`."""
    with open(tokens_file, encoding="utf-8", newline="\n") as lines:
        tokens = [line[:-1] for line in lines]
    matrix = np.load(matrix_file)
    if matrix.ndim != 2 or matrix.shape[0] != len(tokens):
        raise ValueError(f"{matrix_file}: {matrix.shape} rows for {len(tokens)} tokens")
    return Vectors(path, int(matrix.shape[1]), tokens, matrix, len(tokens))


def dimension(path):
    """The vectors' dimension, from the header or the first row (read at once)."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    with _open(path) as stream:
        first = stream.readline()
    fields = first.rstrip(b"\r\n ").split(b" ") if not _is_binary(path) else first.split()
    header = _header(fields)
    if header:
        return header[1]
    if fields == [b""]:
        raise UserError(f"{path}: no vectors in the file")
    if _is_binary(path) or len(fields) < 2:
        raise UserError(f"{where(path, 1)}: expected an 'N D' header or a row 'token v1 ... vD'")
    return len(fields) - 1


COPY_TOKENS, COPY_MATRIX, COPY_SOURCE = "tokens.txt", "vectors.npy", "source.json"


def save_copy(kept, directory):
    """Keep Vectors `kept` in `directory` for a later reader of the same file (read_copy):
    a file of millions of rows is then streamed once per run. The folder is written
    whole or not at all; the source's size and time in it tell a copy of the file as
    it is now."""
    import json
    from textrnn.util import atomic
    with atomic.replacing_dir(directory) as tmp:
        save(kept, os.path.join(tmp, COPY_TOKENS), os.path.join(tmp, COPY_MATRIX))
        with open(os.path.join(tmp, COPY_SOURCE), "w", encoding="utf-8") as out:
            json.dump(_stamp(kept.path), out)


def read_copy(directory, path):
    """The Vectors save_copy kept of the file at `path`, or None when `directory` holds
    no complete copy of that file as it is now."""
    import json
    source = os.path.join(directory, COPY_SOURCE)
    try:
        with open(source, encoding="utf-8") as stamp:
            if json.load(stamp) != _stamp(path):
                return None
        return read(path, os.path.join(directory, COPY_TOKENS),
                    os.path.join(directory, COPY_MATRIX))
    except (OSError, ValueError):
        return None


def _stamp(path):
    status = os.stat(path)
    return {"file": os.path.abspath(path), "bytes": status.st_size,
            "mtime_ns": status.st_mtime_ns}


def _open(path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _is_binary(path):
    name = os.path.basename(path).lower()
    return name.endswith(".bin") or name.endswith(".bin.gz")


def _keep(path, rows, requests):
    """Walk the rows once, keeping for each request its wanted rows and the first
    `max_added` others it can add."""
    from textrnn.util.console import Progress
    progress = Progress(f"{os.path.basename(path)}", unit="rows", every=PROGRESS_ROWS,
                        seconds=10)
    kept = [([], []) for _ in requests]
    # plain lists, not the requests' attributes: this loop runs once a row
    wanted, caps, can_add = ([getattr(r, name) for r in requests]
                             for name in ("wanted", "max_added", "can_add"))
    added, each = [0] * len(requests), range(len(requests))
    dim, count = None, 0
    for count, (token, parse, dim) in enumerate(rows, start=1):
        progress.add(1)
        takers = [i for i in each if token in wanted[i]
                  or (added[i] < caps[i] and can_add[i](token))]
        if not takers:
            continue
        row = np.asarray(parse(), dtype=np.float32)
        if not np.isfinite(row).all():
            raise UserError(f"{path}: the vector of {token!r} has a value that is not finite")
        for i in takers:
            added[i] += token not in wanted[i]
            kept[i][0].append(token)
            kept[i][1].append(row)
    if dim is None:
        raise UserError(f"{path}: no vectors in the file")
    return [Vectors(path, dim, tokens, np.array(values, dtype=np.float32).reshape(
        len(values), dim), count) for tokens, values in kept]


def _header(fields):
    """(rows, dim) when a first line is word2vec's `N D` header, else None."""
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def _text_rows(path, stream):
    """(token, parse, dim) for each row of a word2vec text file; `parse()` gives
    the row's values. Rows are checked against the header or the first row."""
    declared, dim, number = None, None, 0
    for number, raw in enumerate(stream, start=1):
        fields = raw.rstrip(b"\r\n ").split(b" ")
        if number == 1 and (header := _header(fields)):
            declared, dim = header
            continue
        if fields == [b""]:
            continue
        token = _token(path, number, fields[0])
        if dim is None:
            dim = len(fields) - 1
            if dim < 1:
                raise UserError(f"{where(path, number)}: a row needs a token and its values")
        if len(fields) - 1 != dim:
            source = "the header's" if declared is not None else "the first row's"
            raise UserError(f"{where(path, number)}: {len(fields) - 1} values, "
                            f"{source} dimension is {dim}")
        yield token, lambda fields=fields, number=number: _numbers(path, number, fields[1:]), dim
    rows = number - (declared is not None)
    if declared is not None and rows != declared:
        raise UserError(f"{path}: the header says {declared:,} rows, the file has {rows:,}")


def _binary_rows(path, stream):
    """(token, parse, dim) for each row of a word2vec binary file."""
    header = _header(stream.readline().split())
    if header is None:
        raise UserError(f"{where(path, 1)}: a word2vec binary file starts with an 'N D' line")
    declared, dim = header
    for row in range(1, declared + 1):
        name = bytearray()
        while (byte := stream.read(1)) != b" ":
            if not byte:
                raise UserError(f"{path}: row {row:,}: the file ends inside the row "
                                f"(the header says {declared:,} rows)")
            if byte != b"\n" or name:
                name += byte
        body = stream.read(4 * dim)
        if len(body) < 4 * dim:
            raise UserError(f"{path}: row {row:,}: the file ends inside the row "
                            f"(the header says {declared:,} rows)")
        token = _token(path, f"row {row:,}", bytes(name))
        yield token, lambda body=body: np.frombuffer(body, dtype="<f4"), dim


def _token(path, place, raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        place = where(path, place) if isinstance(place, int) else f"{path}: {place}"
        raise UserError(f"{place}: the token is not UTF-8 text") from None


def _numbers(path, number, fields):
    try:
        return [float(f) for f in fields]
    except ValueError:
        bad = next(f for f in fields if not _is_number(f))
        raise UserError(f"{where(path, number)}: {bad.decode('utf-8', 'replace')!r} is not "
                        "a number") from None


def _is_number(field):
    try:
        float(field)
        return True
    except ValueError:
        return False


def initial_embedding(tokens, vectors, pad_id, seed, parts=None, factor=1.0):
    """[len(tokens), dim] float32 rows for an embedding over `tokens`: a token's vector
    where the file has one; else, when `parts(token)` names tokens that all have
    vectors, their mean; else random normal at the vectors' scale (their standard
    deviation). Every row is then `factor` times that: one factor keeps the vectors'
    directions, so their similarities. The padding row is zero. Returns (matrix, ids
    that got a vector)."""
    found = {token: i for i, token in enumerate(vectors.tokens)}
    rng = np.random.default_rng(seed)
    scale = float(vectors.matrix.std()) if vectors.matrix.size else 1.0
    source = vectors.matrix * np.float32(factor)
    matrix = rng.normal(0.0, scale * factor, (len(tokens), vectors.dim)).astype(np.float32)
    covered = []
    for i, token in enumerate(tokens):
        pieces = [token] if token in found else (parts(token) if parts else [])
        if pieces and all(p in found for p in pieces):
            matrix[i] = source[[found[p] for p in pieces]].mean(axis=0)
            covered.append(i)
    if pad_id is not None:
        matrix[pad_id] = 0.0
    return matrix, covered
