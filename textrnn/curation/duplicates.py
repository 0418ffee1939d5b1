"""Duplicates and near-duplicates of a corpus, within and across its files.

Texts are compared after one normalisation (`normalized`): Unicode NFKC (full-
width letters and digits become ASCII, compatibility forms their plain ones)
and whitespace removed, as every textrnn model reads text without it.

- exact duplicates: the same normalised text;
- near-duplicates: texts of at least MIN_CHARS characters whose sets of character
  bigrams have a Jaccard similarity of at least `threshold` (default 0.8), or
  that differ by one character (replaced, inserted or removed: in a short text
  that alone can take the similarity below 0.8). Candidates come from MinHash
  with locality-sensitive hashing (BANDS bands of ROWS hashes: a pair at
  similarity 0.8 becomes a candidate with probability 0.9998, at 0.6 with 0.88),
  and every candidate is then compared exactly, so no reported pair is a hashing
  accident.

Members of exact and near groups are joined into groups (a pair of a group with
a third text makes all three one group), each member kept with its file and
line.
"""

import collections
import dataclasses
import unicodedata
import zlib

import numpy as np

MIN_CHARS = 8
BANDS, ROWS = 16, 4
_PRIME = (1 << 31) - 1


def normalized(text):
    """The text as duplicates are found: NFKC, without whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclasses.dataclass
class Group:
    """Texts that are the same (`exact`) or nearly (lowest pair similarity `similarity`),
    as indices into the audited texts."""
    members: list
    exact: bool
    similarity: float


def bigrams(text):
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0


def find(texts, threshold=0.8):
    """[Group] of the texts (raw strings), largest first: exact duplicates, and
    near-duplicates at bigram Jaccard >= threshold."""
    keys = [normalized(t) for t in texts]
    parent = list(range(len(texts)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = {}
    for i, key in enumerate(keys):
        if key in first:
            parent[root(i)] = root(first[key])
        else:
            first[key] = i
    unique = list(first.values())  # one text of each normalised form
    near = _near_pairs([keys[i] for i in unique], threshold)
    lowest = {}
    for a, b, similarity in near:
        a, b = unique[a], unique[b]
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
        lowest[(a, b)] = similarity
    groups = collections.defaultdict(list)
    for i in range(len(texts)):
        groups[root(i)].append(i)
    found = []
    for members in groups.values():
        if len(members) < 2:
            continue
        forms = {keys[i] for i in members}
        similarity = 1.0 if len(forms) == 1 else min(
            jaccard(bigrams(a), bigrams(b)) for a in forms for b in forms if a < b)
        found.append(Group(sorted(members), len(forms) == 1, round(similarity, 4)))
    return sorted(found, key=lambda g: (-len(g.members), g.members[0]))


def _near_pairs(keys, threshold):
    """(i, j, similarity) of the keys' pairs at bigram Jaccard >= threshold."""
    sets = [bigrams(k) if len(k) >= MIN_CHARS else None for k in keys]
    signatures = _minhash([s for s in sets if s is not None])
    index = [i for i, s in enumerate(sets) if s is not None]
    candidates = set()
    for band in range(BANDS):
        buckets = collections.defaultdict(list)
        rows = signatures[:, band * ROWS:(band + 1) * ROWS]
        for position, row in enumerate(map(bytes, rows)):
            buckets[row].append(index[position])
        for bucket in buckets.values():
            if 1 < len(bucket) <= 1000:  # a larger bucket is boilerplate, not a copy
                candidates.update((a, b) for k, a in enumerate(bucket) for b in bucket[k + 1:])
    out = []
    for a, b in candidates:
        similarity = jaccard(sets[a], sets[b])
        if similarity >= threshold or one_edit(keys[a], keys[b]):
            out.append((a, b, similarity))
    return out


def one_edit(a, b):
    """Whether b is a with one character replaced, inserted or removed."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    if len(a) == len(b):
        return a[start + 1:] == b[start + 1:]
    return a[start:] == b[start + 1:]


def _minhash(sets):
    """[len(sets), BANDS * ROWS] uint32 MinHash signatures (CRC32 of each bigram, then
    seeded universal hashes; the same in every process)."""
    rng = np.random.default_rng(0)
    count = BANDS * ROWS
    a = rng.integers(1, _PRIME, count, dtype=np.int64)
    b = rng.integers(0, _PRIME, count, dtype=np.int64)
    out = np.empty((len(sets), count), np.uint32)
    for i, grams in enumerate(sets):
        x = np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), np.int64, len(grams))
        x %= _PRIME  # so that a * x stays inside int64
        out[i] = ((np.outer(x, a) + b) % _PRIME).min(axis=0)
    return out
