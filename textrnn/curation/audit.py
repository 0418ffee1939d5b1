"""A corpus audit: duplicates, leaks between splits, and probably wrong labels.

    report = audit(texts, labels, sources)        # sources: where each text came from
    report.write(out_dir)                         # duplicates.tsv, label_issues.tsv, report.json
    print("\\n".join(report.summary()))

Test is not searched for label issues unless asked (`check_test`): choosing what to
drop or relabel by looking at test's labels makes test easier than the texts the
model will meet, and its score a promise the model does not keep. Its duplicates
and leaks are always reported.
"""

import collections
import csv
import dataclasses
import json
import os

from textrnn.curation import duplicates as dups
from textrnn.text.corrections import HEADER as ISSUES_HEADER
from textrnn.util import atomic
from textrnn.util.errors import UserError

DUPLICATES_FILE = "duplicates.tsv"
ISSUES_FILE = "label_issues.tsv"
REPORT_FILE = "report.json"


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a text came from: its file, line and split."""
    file: str
    line: int
    split: str = "train"


@dataclasses.dataclass
class Report:
    texts: list
    labels: list
    sources: list
    groups: list            # duplicates.Group
    issues: object = None   # label_issues.Issues, or None when not searched

    def _group_record(self, number, group):
        members = [dict(file=self.sources[i].file, line=self.sources[i].line,
                        split=self.sources[i].split, label=self.labels[i], text=self.texts[i])
                   for i in group.members]
        splits = {m["split"] for m in members}
        return dict(group=number, exact=group.exact, similarity=group.similarity,
                    conflicting_labels=len({m["label"] for m in members}) > 1,
                    leak=sorted(splits - {"train"}) if "train" in splits and len(splits) > 1
                    else [], members=members)

    def duplicate_groups(self):
        return [self._group_record(n, g) for n, g in enumerate(self.groups, start=1)]

    def noise_by_class(self):
        """{label: share of its checked texts flagged} (an estimate of its label noise)."""
        if self.issues is None:
            return {}
        checked = collections.Counter(self.labels[i] for i in range(len(self.labels))
                                      if not _missing(self.issues.probabilities[i]))
        flagged = collections.Counter(self.issues.given)
        return {label: round(flagged[label] / n, 4) for label, n in sorted(checked.items())}

    def confusions(self, top=10):
        """The most frequent (given, suggested) pairs among the issues."""
        if self.issues is None:
            return []
        pairs = collections.Counter(zip(self.issues.given, self.issues.suggested))
        return [dict(given=g, suggested=s, texts=n) for (g, s), n in pairs.most_common(top)]

    def counts(self):
        groups = self.duplicate_groups()
        return dict(texts=len(self.texts),
                    exact_groups=sum(g["exact"] for g in groups),
                    near_groups=sum(not g["exact"] for g in groups),
                    texts_in_groups=sum(len(g["members"]) for g in groups),
                    conflicting_groups=sum(g["conflicting_labels"] for g in groups),
                    leaking_groups=sum(bool(g["leak"]) for g in groups),
                    label_issues=None if self.issues is None else len(self.issues.index))

    def summary(self):
        """One screen for people."""
        c = self.counts()
        lines = [f"{c['texts']:,} texts: {c['exact_groups']:,} groups of exact duplicates and "
                 f"{c['near_groups']:,} of near-duplicates ({c['texts_in_groups']:,} texts); "
                 f"{c['conflicting_groups']:,} groups with conflicting labels; "
                 f"{c['leaking_groups']:,} groups shared between train and val/test (leaks)"]
        if self.issues is None:
            return lines + ["label issues: not searched"]
        lines.append(f"label issues: {c['label_issues']:,} texts whose label is probably "
                     "wrong (label_issues.tsv, most likely first)")
        if self.issues.skipped_classes:
            lines.append(f"  not checked (too few texts to cross-fit): "
                         f"{', '.join(self.issues.skipped_classes)}")
        noise = sorted(self.noise_by_class().items(), key=lambda item: -item[1])
        lines.append("  estimated noise by class: " + ", ".join(
            f"{label} {share:.1%}" for label, share in noise[:10]))
        lines += [f"  {c['given']} -> {c['suggested']}: {c['texts']:,}"
                  for c in self.confusions(5)]
        return lines

    def to_dict(self):
        out = dict(counts=self.counts(), duplicates=self.duplicate_groups(),
                   noise_by_class=self.noise_by_class(), confusions=self.confusions())
        if self.issues is not None:
            out["label_issues"] = self.issue_rows()
            out["skipped_classes"] = self.issues.skipped_classes
        return out

    def issue_rows(self):
        if self.issues is None:
            return []
        return [dict(file=self.sources[i].file, line=self.sources[i].line, given=g,
                     suggested=s, score=round(score, 6), text=self.texts[i])
                for i, g, s, score in zip(self.issues.index, self.issues.given,
                                          self.issues.suggested, self.issues.score)]

    def write(self, out_dir):
        """duplicates.tsv, label_issues.tsv (when searched) and report.json into out_dir."""
        os.makedirs(out_dir, exist_ok=True)
        rows = [(g["group"], "exact" if g["exact"] else "near", g["similarity"],
                 ",".join(g["leak"]), m["file"], m["line"], m["split"], m["label"], m["text"])
                for g in self.duplicate_groups() for m in g["members"]]
        write_tsv(os.path.join(out_dir, DUPLICATES_FILE), ("group", "kind", "similarity",
                   "leak", "file", "line", "split", "label", "text"), rows)
        if self.issues is not None:
            write_tsv(os.path.join(out_dir, ISSUES_FILE), ISSUES_HEADER,
                       [tuple(r.values()) for r in self.issue_rows()])
        with atomic.writing(os.path.join(out_dir, REPORT_FILE)) as out:
            json.dump(self.to_dict(), out, ensure_ascii=False, indent=1)


def _missing(row):
    return bool(row is None or any(v != v for v in row))


def write_tsv(path, header, rows):
    """A TSV file with a header row, fields quoted where they need it (csv's rules)."""
    with atomic.writing(path) as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n",
                            quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def audit(texts, labels, sources=None, folds=5, seed=1, near_threshold=0.8,
          label_issues=True, words=True, check_test=False, estimator=None):
    """A Report on `texts` and their `labels` (one label a text). `sources`: a Source
    for each text (default: line numbers of one train list); `folds`, `seed`: the
    cross-fitting; `words`: jieba words beside the n-grams, as the recipe's wide path;
    `check_test`: also search test's texts for label issues; `estimator`: a classifier
    with scikit-learn's interface (e.g. textrnn.TextClassifier(), the whole recipe) to
    cross-fit instead of the wide path."""
    texts, labels = list(texts), [str(label) for label in labels]
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    sources = list(sources) if sources is not None else [
        Source("<texts>", i + 1) for i in range(len(texts))]
    report = Report(texts, labels, sources, dups.find(texts, near_threshold))
    if label_issues:
        from textrnn.curation import label_issues as issues
        checked = [i for i, s in enumerate(sources) if check_test or s.split != "test"]
        found = issues.audit_labels([texts[i] for i in checked], [labels[i] for i in checked],
                                    folds, seed, words, estimator)
        report.issues = _remapped(found, checked, len(texts))
    return report


def _remapped(found, checked, count):
    """Issues over a subset of the texts as issues over all of them."""
    import numpy as np
    probabilities = np.full((count, found.probabilities.shape[1]), np.nan)
    probabilities[checked] = found.probabilities
    return dataclasses.replace(found, index=[checked[i] for i in found.index],
                               probabilities=probabilities)


def audit_files(paths, file_format, **options):
    """audit() of labelled files: `paths` {split: file} (train required)."""
    from textrnn.text import formats
    texts, labels, sources = [], [], []
    for split in ("train", "val", "test"):
        path = paths.get(split)
        if not path:
            continue
        for record in formats.read_labelled(path, file_format):
            texts.append(record.text)
            labels.append(record.labels[0])
            sources.append(Source(path, record.line, split))
    if not texts:
        raise UserError(f"{paths['train']}: no labelled text")
    return audit(texts, labels, sources, **options)
