"""Vocabulary and categories: the files, and the token -> id rules.

`vocab.txt` holds `token<TAB>count` for every token seen in training, most
frequent first, with the reserved `<PAD>` and `<UNK>` on top. As in the
original, the frequency threshold is applied when loading, not when counting,
so one prepared folder serves many thresholds. Unlike the original, `<PAD>`
is id 0 and never a real token, so padding can be masked.

A loaded Vocabulary is written out as `tokens.txt` (one token a line, line
number == id): the single source of the in-graph lookup used for training,
evaluation and the exported model alike.
"""

import dataclasses
import os

from textrnn.util.errors import UserError, where

PAD = "<PAD>"
UNK = "<UNK>"
VOCAB_FILE = "vocab.txt"
CATEGORIES_FILE = "categories.txt"
MANIFEST_FILE = "manifest.json"
TOKENS_FILE = "tokens.txt"


def write_counts(path, counter):
    """Write vocab.txt from a Counter: reserved tokens, then by count desc, token asc."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(f"{PAD}\t0\n{UNK}\t0\n")
        for token, count in sorted(counter.items(), key=lambda item: (-item[1], item[0])):
            if token not in (PAD, UNK):
                out.write(f"{token}\t{count}\n")


def write_categories(path, labels):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(f"{label}\n" for label in labels)


def _read_lines(path):
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    # newline="\n": TensorFlow's TextFileInitializer splits on \n only, so must we.
    with open(path, encoding="utf-8-sig", newline="\n") as stream:
        try:
            for number, line in enumerate(stream, start=1):
                yield number, line.rstrip("\r\n")
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text") from None


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """Tokens in id order, with the ids of `<UNK>` and (if any) `<PAD>`."""
    tokens: tuple
    unk_id: int
    pad_id: int | None

    @classmethod
    def load(cls, path, num_word_threshold=1, max_vocab_size=None, reserve_pad=True):
        """Load `token<TAB>count` lines, keeping tokens with count >= threshold.

        Ids follow file order over the kept tokens, as the original's did. With
        `reserve_pad`, `<PAD>` gets id 0 and `<UNK>` id 1 wherever they stand
        in the file; without it (a TF1 vocabulary) `<UNK>` keeps its position
        among the kept tokens and there is no padding id. `<UNK>` is always
        kept. `max_vocab_size` caps the total including reserved tokens.
        """
        kept, seen = [], set()
        for number, line in _read_lines(path):
            if not line:
                continue
            token, tab, count = line.partition("\t")
            if not tab or not token or any(c.isspace() for c in token):
                raise UserError(f"{where(path, number)}: expected 'token<TAB>count' with a "
                                "token free of whitespace")
            try:
                count = int(count)
            except ValueError:
                raise UserError(f"{where(path, number)}: count {count!r} is not an integer") from None
            if token in seen:
                raise UserError(f"{where(path, number)}: token {token!r} appears twice")
            seen.add(token)
            if token == UNK or (token != PAD and count >= num_word_threshold):
                kept.append(token)
        if UNK not in seen:
            raise UserError(f"{path}: the vocabulary has no {UNK} entry")
        if reserve_pad:
            kept = [PAD, UNK] + [t for t in kept if t not in (PAD, UNK)]
        if max_vocab_size:
            kept = kept[:max(max_vocab_size, kept.index(UNK) + 1)]
        if len(kept) <= (2 if reserve_pad else 1):
            raise UserError(f"{path}: no token has a count of at least {num_word_threshold}; "
                            "lower --num_word_threshold")
        return cls(tuple(kept), kept.index(UNK), 0 if reserve_pad else None)

    @classmethod
    def from_tokens_file(cls, path):
        """Read a tokens.txt (line number == id)."""
        tokens = [line for _, line in _read_lines(path)]
        if UNK not in tokens:
            raise UserError(f"{path}: the token list has no {UNK}")
        return cls(tuple(tokens), tokens.index(UNK), 0 if tokens[0] == PAD else None)

    def extended(self, tokens):
        """This vocabulary with `tokens` (not yet in it) appended, ids after the current ones."""
        return Vocabulary(self.tokens + tuple(tokens), self.unk_id, self.pad_id)

    def write_tokens(self, path):
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            out.writelines(f"{token}\n" for token in self.tokens)

    def __len__(self):
        return len(self.tokens)


@dataclasses.dataclass(frozen=True)
class Categories:
    """Class labels in id order (line order of categories.txt)."""
    labels: tuple

    @classmethod
    def load(cls, path):
        labels = []
        for number, line in _read_lines(path):
            label = line.strip()
            if not label:
                continue
            if label in labels:
                raise UserError(f"{where(path, number)}: label {label!r} appears twice")
            labels.append(label)
        if len(labels) < 2:
            raise UserError(f"{path}: need at least two categories, found {len(labels)}")
        return cls(tuple(labels))

    def __len__(self):
        return len(self.labels)

    def id(self, label):
        try:
            return self.labels.index(label)
        except ValueError:
            raise UserError(f"unknown category {label!r}; known: {', '.join(self.labels)}") from None
