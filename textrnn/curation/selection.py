"""What to label next: the texts of an unlabelled pool whose labels would teach the
model most.

`choose` ranks the pool by uncertainty, the margin between the model's two most
probable labels (its served, calibrated probabilities: a small margin is a text
the model cannot decide), and takes texts from the top of that ranking
class by class in turn (the class the model guesses), so the chosen texts spread
over what the pool holds rather than piling up on one confusable pair. A share
(`unknown_share`, default 10%) goes to the texts with the most vocabulary the
model has never seen, which no probability can flag. No chosen text is a
near-duplicate of another (curation/duplicates.py's rule): labelling the same
text twice teaches nothing new.

The output (`write`): TSV or JSON Lines, one chosen text a row with the model's
guess, its probability and why it was chosen; both import as they are into
Label Studio (the `text` column or key is the task's data) and doccano (JSON
Lines: `text` is read, the rest kept as metadata).
"""

import collections
import dataclasses
import json

import numpy as np

from textrnn.curation import duplicates as dups
from textrnn.util import atomic
from textrnn.util.errors import UserError


@dataclasses.dataclass
class Choice:
    index: int          # into the pool
    text: str
    guess: str
    probability: float
    why: str


def choose(texts, probabilities, labels, k, unknown=None, unknown_share=0.1,
           near_threshold=0.8):
    """[Choice] of k texts of the pool `texts`, from the model's `probabilities`
    ([pool, classes], columns in `labels` order) and each text's share of unknown
    vocabulary (`unknown`, [pool]; None: no share for it)."""
    p = np.asarray(probabilities, np.float64)
    if len(p) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(p)} rows of probabilities")
    if k < 1:
        raise ValueError(f"k={k}: choose at least one text")
    order = np.argsort(-p, axis=1, kind="stable")
    top, second = p[np.arange(len(p)), order[:, 0]], p[np.arange(len(p)), order[:, 1]]
    margin = top - second
    picker = _Picker(texts, near_threshold)
    chosen = []
    if unknown is not None and unknown_share > 0:
        unknown = np.asarray(unknown, np.float64)
        for i in np.argsort(-unknown, kind="stable"):
            if len(chosen) >= round(k * unknown_share) or unknown[i] <= 0:
                break
            if picker.take(i):
                chosen.append(Choice(int(i), texts[i], labels[order[i, 0]], float(top[i]),
                                     f"unknown vocabulary: {unknown[i]:.0%} of its tokens"))
    queues = collections.defaultdict(collections.deque)
    for i in np.argsort(margin, kind="stable"):
        queues[int(order[i, 0])].append(int(i))
    while len(chosen) < k and any(queues.values()):
        for guess in sorted(queues):
            while queues[guess] and len(chosen) < k:
                i = queues[guess].popleft()
                if picker.take(i):
                    chosen.append(Choice(i, texts[i], labels[guess], float(top[i]),
                                         f"uncertain: {labels[guess]} {top[i]:.2f} or "
                                         f"{labels[order[i, 1]]} {second[i]:.2f}"))
                    break
    return chosen


def select(predictor, texts, k, batch_size=256, **options):
    """choose() over the pool `texts` by a serving.inference.Predictor's served
    probabilities and unknown shares (`options`: choose's)."""
    if predictor.multi_label:
        raise UserError("selection is for single-label models")
    texts = list(texts)
    if not texts:
        raise UserError("the pool is empty")
    out = predictor.outputs(texts, batch_size)
    return choose(texts, out["probabilities"], predictor.labels, k, out["unknown_share"],
                  **options)


class _Picker:
    """Takes each text once, and no near-duplicate of one taken."""

    def __init__(self, texts, threshold):
        self.texts, self.threshold = texts, threshold
        self.taken, self.forms, self.grams = set(), set(), []

    def take(self, i):
        if i in self.taken:
            return False
        form = dups.normalized(self.texts[i])
        grams = dups.bigrams(form)
        if form in self.forms or (len(form) >= dups.MIN_CHARS and any(
                dups.jaccard(grams, other) >= self.threshold for other in self.grams)):
            return False
        self.taken.add(i)
        self.forms.add(form)
        if len(form) >= dups.MIN_CHARS:
            self.grams.append(grams)
        return True


def write(choices, path):
    """The choices as TSV (.tsv, .txt) or JSON Lines (.jsonl), by the extension."""
    header = ("text", "guess", "probability", "why")
    rows = [dict(zip(header, (c.text, c.guess, round(c.probability, 4), c.why)))
            for c in choices]
    kind = path.rsplit(".", 1)[-1].lower()
    if kind not in ("tsv", "txt", "jsonl"):
        raise UserError(f"{path}: write .tsv or .jsonl (Label Studio and doccano read both)")
    if kind != "jsonl":
        from textrnn.curation.audit import write_tsv
        write_tsv(path, header, [tuple(r.values()) for r in rows])
        return
    with atomic.writing(path) as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
