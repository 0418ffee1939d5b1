"""Better data: duplicates and leaks with their file:line, label issues by cross-fitting
and confident learning, corrections applied, and what to label next."""

import csv
import random

import numpy as np
import pytest
import tensorflow  # noqa: F401  (imported here, before the unit tier's guard: it starts a process)

from textrnn.curation import audit, duplicates, label_issues, selection
from textrnn.text import corrections
from textrnn.util.errors import UserError


def _write(path, rows):
    path.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def files(tmp_path):
    """train/test files with an exact copy across them (other label), a near copy (one
    character changed) and a full-width copy inside train."""
    train = _write(tmp_path / "train.txt", [
        ("体育", "国家队在世界杯预选赛中以二比零取胜"),
        ("财经", "央行宣布下调存款准备金率，股市应声上涨"),
        ("财经", "央行宣布下调存款准备金率，股市应声大涨"),    # near: one character
        ("科技", "ＡＢＣ 公司发布新款手机芯片"),
        ("科技", "ABC公司发布新款手机芯片"),                   # exact after NFKC, spaces
        ("娱乐", "电影定档春节")])
    test = _write(tmp_path / "test.txt", [
        ("娱乐", "国家队在世界杯预选赛中以二比零取胜"),        # a leak, with another label
        ("体育", "足球联赛今晚开战")])
    return train, test


@pytest.mark.unit
def test_duplicates_across_files_are_grouped_with_file_and_line(files):
    train, test = files
    report = audit.audit_files(dict(train=train, test=test), _plain(), label_issues=False)
    groups = {tuple((m["file"], m["line"]) for m in g["members"]): g
              for g in report.duplicate_groups()}
    leak = groups[((train, 1), (test, 1))]
    assert leak["exact"] and leak["conflicting_labels"] and leak["leak"] == ["test"]
    near = groups[((train, 2), (train, 3))]
    assert not near["exact"] and 0.8 <= near["similarity"] < 1 and not near["leak"]
    assert groups[((train, 4), (train, 5))]["exact"]
    assert len(groups) == 3
    assert report.counts()["leaking_groups"] == 1 and report.counts()["conflicting_groups"] == 1


def _plain():
    from textrnn.text.formats import FileFormat
    return FileFormat()


@pytest.mark.unit
def test_near_duplicates_need_a_long_enough_text_and_the_threshold():
    texts = ["电影定档", "电影定档了",                      # one edit, but too short
             "今年的春节档电影票房创下新高", "今年的春节档电影票房创下新高!",  # one edit
             "去年的春节档电影票房创下新低了",                # three edits from the first
             "今年春节档的电视收视率下降了"]
    assert [g.members for g in duplicates.find(texts)] == [[2, 3]]
    loose = duplicates.find(texts, threshold=0.6)
    assert [g.members for g in loose] == [[2, 3, 4]] and not loose[0].exact


@pytest.mark.unit
class _FakeFitting:
    """Stands for label_issues.Fitting: each C's model predicts the given label for the
    first `accuracy[C]` share of the texts it is asked about; what each fold's model
    trained on and scored is kept in `seen`."""

    accuracy, seen, solved, given = {}, [], [], []

    def __init__(self, texts, labels, *rest):
        from textrnn.training.wide import linear
        self.texts, self.cfg = set(texts), linear.WideConfig()

    def solve(self, c):
        fitting, share = self, self.accuracy.get(c, 0.5)
        self.solved.append(c)

        class Fitted:
            def scores(self, held):
                fitting.seen.append((fitting.texts, list(held)))
                return np.zeros((len(held), 3), np.float32)

            def predict(self, held):
                right = int(round(share * len(held)))
                return [l for l in _FakeFitting.given[:right]] + ["?"] * (len(held) - right)
        return Fitted()


def test_cross_fitting_never_scores_a_text_with_a_model_that_saw_it(monkeypatch):
    monkeypatch.setattr(label_issues, "Fitting", _FakeFitting)
    monkeypatch.setattr(_FakeFitting, "seen", [])
    monkeypatch.setattr(_FakeFitting, "given", [])
    texts = [f"text {i}" for i in range(50)]
    labels = [("a", "b", "c")[i % 3] for i in range(50)]
    label_issues.out_of_fold(texts, labels, folds=5, words=False, c=1.0)
    scored = [t for _, held in _FakeFitting.seen for t in held]
    assert sorted(scored) == sorted(texts)  # each text scored once
    assert all(not (trained & set(held)) for trained, held in _FakeFitting.seen)
    folds = label_issues.folds_of(labels, 5, seed=1)
    for label in "abc":  # stratified: every fold holds each class
        assert set(folds[np.asarray(labels) == label]) == set(range(5))


class _Remembering:
    """A classifier with scikit-learn's interface that remembers what it trained on and
    gives its classes in reverse order."""

    fitted = []

    def __init__(self, model_dir="kept", depth=3):
        self.model_dir, self.depth = model_dir, depth

    def get_params(self):
        return dict(model_dir=self.model_dir, depth=self.depth)

    def fit(self, texts, labels):
        assert self.model_dir is None and self.depth == 3  # a fresh copy for each fold
        self.texts, self.classes_ = set(texts), sorted(set(labels), reverse=True)
        self.label_of = dict(zip(texts, labels))
        _Remembering.fitted.append(self)
        return self

    def predict_proba(self, texts):
        assert not self.texts & set(texts), "scored a text it trained on"
        first = self.classes_.index("a")
        return np.array([[1.0 if j == first else 0.0 for j in range(len(self.classes_))]
                         for _ in texts])


def test_any_estimator_is_cross_fitted_on_the_other_folds(monkeypatch):
    monkeypatch.setattr(_Remembering, "fitted", [])
    texts = [f"text {i}" for i in range(30)]
    labels = [("a", "b", "c")[i % 3] for i in range(30)]
    probabilities, classes = label_issues.out_of_fold_estimator(_Remembering(), texts,
                                                                labels, folds=3)
    assert classes == ["a", "b", "c"] and len(_Remembering.fitted) == 3
    assert (probabilities[:, 0] == 1).all() and (probabilities[:, 1:] == 0).all()
    found = label_issues.audit_labels(texts, labels, folds=3, estimator=_Remembering())
    assert found.index and all(labels[i] != "a" for i in found.index)
    assert set(found.suggested) == {"a"}


@pytest.mark.parametrize("accuracy, chosen", [
    ({0.1: 0.80, 0.3: 0.815, 1.0: 0.82, 3.0: 0.81, 10.0: 0.80}, 0.3),  # 0.3 within 1 SE
    ({0.1: 0.70, 0.3: 0.75, 1.0: 0.80, 3.0: 0.82, 10.0: 0.84}, 10.0),  # the best, alone
    ({c: 0.9 for c in (0.1, 0.3, 1.0, 3.0, 10.0)}, 0.1),              # ties: the smallest
])
def test_c_is_the_smallest_within_one_standard_error_of_the_best(monkeypatch, accuracy,
                                                                  chosen):
    monkeypatch.setattr(_FakeFitting, "accuracy", accuracy)
    monkeypatch.setattr(_FakeFitting, "solved", [])
    labels = ["a"] * 2000  # one standard error: about 0.0086 at 0.82
    monkeypatch.setattr(_FakeFitting, "given", labels)
    c, _ = label_issues.choose_c(_FakeFitting([], []), [""] * 2000, labels)
    assert c == chosen
    assert len(set(_FakeFitting.solved)) == len(_FakeFitting.solved)  # each C solved once


def _planted_corpus(seed=0):
    """Three classes, each with its own characters; 12 of 240 labels flipped; and a
    class of 2 texts, too small to cross-fit in 3 folds."""
    rng = random.Random(seed)
    cues = {"猫": "喵爪鱼毛窝", "车": "轮油路速驾", "书": "页字读笔墨"}
    filler = "的一是在不了有和人这中大为上个"
    texts, labels = [], []
    for label, chars in cues.items():
        for _ in range(80):
            text = [rng.choice(chars) for _ in range(8)] + [rng.choice(filler) for _ in range(4)]
            rng.shuffle(text)
            texts.append("".join(text))
            labels.append(label)
    flipped = rng.sample(range(len(texts)), 12)
    given = list(labels)
    for i in flipped:
        given[i] = rng.choice([l for l in cues if l != labels[i]])
    texts += ["星月光", "星光"]
    given += ["天"] * 2
    return texts, given, set(flipped)


def test_confident_learning_finds_the_planted_flips_first():
    texts, given, flipped = _planted_corpus()
    report = audit.audit(texts, given, folds=3, words=False)
    issues = report.issues
    assert set(issues.index) <= flipped and len(issues.index) >= 8, issues.index
    assert issues.score == sorted(issues.score)  # the most likely first
    assert issues.skipped_classes == ["天"]
    assert all(s != g for s, g in zip(issues.suggested, issues.given))
    assert report.summary()[1].startswith(f"label issues: {len(issues.index)} texts")


def _issues_file(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(corrections.HEADER)
        writer.writerows(rows)
    return str(path)


@pytest.mark.unit
def test_corrections_relabel_drop_and_are_counted(files, tmp_path):
    from textrnn.text import formats
    train, test = files
    path = _issues_file(tmp_path / "fix.tsv", [
        (train, 2, "财经", "DROP", 0.01, "央行宣布下调存款准备金率，股市应声上涨"),
        (test, 1, "娱乐", "体育", 0.02, "国家队在世界杯预选赛中以二比零取胜"),
        (train, 6, "娱乐", "娱乐", 0.3, "电影定档春节")])
    records = {s: list(formats.read_labelled(p)) for s, p in (("train", train), ("test", test))}
    fixed, counts = corrections.apply(records, corrections.read(path), path)
    assert counts == dict(relabelled=1, dropped=1, unchanged=1)
    assert len(fixed["train"]) == 5 and fixed["test"][0].labels == ("体育",)


@pytest.mark.unit
@pytest.mark.parametrize("row, message", [
    (("{train}", 2, "体育", "DROP", 0, "央行宣布下调存款准备金率，股市应声上涨"), "changed since"),
    (("{train}", 99, "体育", "DROP", 0, "x"), "no such line"),
    (("{train}", "two", "体育", "DROP", 0, "x"), "line number"),
    (("{train}", 2, "体育"), "6 TAB-separated fields")])
def test_bad_corrections_name_their_row(files, tmp_path, row, message):
    from textrnn.text import formats
    train, _ = files
    path = _issues_file(tmp_path / "fix.tsv", [[str(f).format(train=train) for f in row]])
    with pytest.raises(UserError, match=rf"fix.tsv:2: .*{message}"):
        records = {"train": list(formats.read_labelled(train))}
        corrections.apply(records, corrections.read(path), path)


@pytest.mark.unit
def test_a_bad_line_of_an_audited_file_is_named(tmp_path):
    bad = tmp_path / "train.txt"
    bad.write_text("体育\t一\n没有制表符的一行\n", encoding="utf-8")
    with pytest.raises(UserError, match="train.txt:2"):
        audit.audit_files(dict(train=str(bad)), _plain(), label_issues=False)


def _pool(seed=0):
    rng = np.random.default_rng(seed)
    texts = [f"第{i}条评论，内容各不相同{i * 7919 % 1000}" for i in range(200)]
    texts[10] = texts[11] = texts[12] = "完全一样的一条评论文本"
    p = rng.dirichlet(np.ones(4) * 0.5, size=200)
    p[10:13] = [0.26, 0.25, 0.25, 0.24]  # the most uncertain, three times over
    return texts, p, rng.uniform(0, 0.3, 200)


@pytest.mark.unit
def test_selection_spreads_over_the_guesses_without_duplicates_and_repeats():
    texts, p, unknown = _pool()
    labels = ["a", "b", "c", "d"]
    chosen = selection.choose(texts, p, labels, 40, unknown)
    picked = [c.text for c in chosen]
    assert len(picked) == 40 and len(set(picked)) == 40
    assert sum(t == "完全一样的一条评论文本" for t in picked) == 1
    assert {c.guess for c in chosen} == set(labels)  # every guessed class covered
    assert sum(c.why.startswith("unknown") for c in chosen) == 4
    again = selection.choose(texts, p, labels, 40, unknown)
    assert [c.index for c in again] == [c.index for c in chosen]
    margins = np.sort(p, axis=1)[:, -1] - np.sort(p, axis=1)[:, -2]
    uncertain = [c.index for c in chosen if c.why.startswith("uncertain")]
    assert np.mean(margins[uncertain]) < np.mean(margins) / 2


@pytest.mark.unit
def test_selection_writes_what_label_studio_and_doccano_read(tmp_path):
    texts, p, unknown = _pool()
    chosen = selection.choose(texts, p, ["a", "b", "c", "d"], 5, unknown)
    selection.write(chosen, str(tmp_path / "to_label.tsv"))
    selection.write(chosen, str(tmp_path / "to_label.jsonl"))
    rows = list(csv.DictReader(open(tmp_path / "to_label.tsv", encoding="utf-8"),
                               delimiter="\t"))
    assert [r["text"] for r in rows] == [c.text for c in chosen]
    import json
    lines = [json.loads(l) for l in open(tmp_path / "to_label.jsonl", encoding="utf-8")]
    assert lines[0].keys() >= {"text", "guess", "probability", "why"}
    with pytest.raises(UserError, match="tsv or .jsonl"):
        selection.write(chosen, str(tmp_path / "to_label.xlsx"))
