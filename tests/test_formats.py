"""The files people have: CSV, JSON Lines, fastText lines, GB18030, one file split."""

import json

import pytest

from textrnn.text import corpus, formats
from textrnn.text.formats import FileFormat
from textrnn.util.errors import UserError


def records(path, multi_label=False, **fmt):
    return list(formats.read_labelled(str(path), FileFormat(**fmt), multi_label))


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_with_quoted_commas_and_line_breaks(tmp_path):
    path = write(tmp_path / "a.csv", 'id,text,label\n1,"好吃, 送得快",正面\n'
                                     '2,"第一行\n第二行",负面\n3,还行,正面\n')
    got = records(path)
    assert [(r.labels, r.text, r.line) for r in got] == [
        (("正面",), "好吃, 送得快", 2), (("负面",), "第一行 第二行", 3), (("正面",), "还行", 5)]


def test_csv_names_its_columns(tmp_path):
    path = write(tmp_path / "a.csv", "content,category\n好吃,正面\n")
    with pytest.raises(UserError, match=r"a.csv:1: the header has no column 'text' \(its "
                                        r"columns: 'content', 'category'\)"):
        records(path)
    got = records(path, text_column="content", label_column="category")
    assert got[0].labels == ("正面",) and got[0].text == "好吃"


def test_csv_row_with_the_wrong_number_of_fields(tmp_path):
    path = write(tmp_path / "a.csv", "text,label\n好吃,正面\n好吃,又快,正面\n")
    with pytest.raises(UserError, match=r"a.csv:3: 3 fields where the header has 2"):
        records(path)


def test_jsonl_with_a_list_of_labels(tmp_path):
    path = write(tmp_path / "a.jsonl", json.dumps({"text": "猫和狗", "label": ["cat", "dog"]},
                                                  ensure_ascii=False) + "\n\n"
                 + json.dumps({"text": "鱼", "label": "fish"}, ensure_ascii=False) + "\n")
    got = records(path, multi_label=True)
    assert [(r.labels, r.line) for r in got] == [(("cat", "dog"), 1), (("fish",), 3)]
    with pytest.raises(UserError, match=r"a.jsonl:1: 2 labels for one text; prepare with "
                                        r"--multi_label"):
        records(path)


@pytest.mark.parametrize("line, message", [
    ("{not json", r"b.jsonl:2: not JSON"),
    ('{"content": "x", "label": "a"}', r"b.jsonl:2: no key 'text' \(the object has 'content', "
                                       r"'label'\)"),
    ('["x", "a"]', r"b.jsonl:2: a JSON list where an object is expected"),
    ('{"text": "x", "label": null}', r"b.jsonl:2: 'label' holds null"),
    ('{"text": "", "label": "a"}', r"b.jsonl:2: empty text"),
    ('{"text": "x", "label": ""}', r"b.jsonl:2: empty label"),
])
def test_bad_jsonl_lines_are_named(tmp_path, line, message):
    path = write(tmp_path / "b.jsonl", '{"text": "好", "label": 1}\n' + line + "\n")
    with pytest.raises(UserError, match=message):
        records(path)


def test_fasttext_lines(tmp_path):
    path = write(tmp_path / "a.txt", "__label__体育 __label__娱乐 球星 出演 电影\n__label__财经 股市\n")
    got = records(path, multi_label=True)
    assert [(r.labels, r.text) for r in got] == [(("体育", "娱乐"), "球星 出演 电影"),
                                                 (("财经",), "股市")]
    assert FileFormat().of(str(path)) == "fasttext"
    bad = write(tmp_path / "b.txt", "__label__体育 球\n没有标签的一行\n", )
    with pytest.raises(UserError, match=r"b.txt:2: no __label__"):
        records(bad, format="fasttext")


def test_gb18030_needs_its_encoding_and_says_so(tmp_path):
    path = write(tmp_path / "excel.csv", "text,label\n外卖很好吃,正面\n", encoding="gb18030")
    with pytest.raises(UserError, match=r"excel.csv:2: bytes that are not UTF-8 .*"
                                        r"--encoding=gb18030"):
        records(path)
    assert records(path, encoding="gb18030")[0].text == "外卖很好吃"


def test_an_unknown_encoding_is_named():
    with pytest.raises(UserError, match="--encoding=klingon"):
        FileFormat(encoding="klingon").check()


def test_format_by_extension(tmp_path):
    tsv = write(tmp_path / "a.txt", "体育\t球\n")
    assert FileFormat().of(str(tsv)) == "tsv" and FileFormat().is_plain(str(tsv))
    assert FileFormat().of("x.CSV") == "csv" and FileFormat().of("x.ndjson") == "jsonl"
    assert FileFormat(format="csv").of(str(tsv)) == "csv"
    assert not FileFormat(encoding="gb18030").is_plain(str(tsv))


def test_texts_of_each_format(tmp_path):
    csv = write(tmp_path / "a.csv", 'text\n"一,二"\n三\n')
    jsonl = write(tmp_path / "a.jsonl", '{"text": "四"}\n')
    fast = write(tmp_path / "a.txt", "__label__x 五 六\n")
    assert list(formats.read_texts(str(csv))) == [(2, "一,二"), (3, "三")]
    assert list(formats.read_texts(str(jsonl))) == [(1, "四")]
    assert list(formats.read_texts(str(fast), FileFormat(format="fasttext"))) == [(1, "五 六")]


def _records(counts):
    return [formats.Record((label,), f"{label}{i}", "f", i)
            for label, n in counts.items() for i in range(n)]


def test_split_is_stratified_seeded_and_keeps_input_order():
    data = _records({"a": 100, "b": 20, "c": 1})
    parts = formats.split_stratified(data, (0.8, 0.1, 0.1), seed=3)
    assert parts == formats.split_stratified(data, (0.8, 0.1, 0.1), seed=3)
    assert parts != formats.split_stratified(data, (0.8, 0.1, 0.1), seed=4)
    count = lambda part, label: sum(r.labels[0] == label for r in parts[part])
    assert (count("train", "a"), count("val", "a"), count("test", "a")) == (80, 10, 10)
    assert (count("train", "b"), count("val", "b"), count("test", "b")) == (16, 2, 2)
    assert count("train", "c") == 1  # a class of one stays in train
    for part in parts.values():
        assert part == sorted(part, key=data.index)
    assert sorted(sum(parts.values(), []), key=data.index) == data


@pytest.mark.parametrize("text", ["0.8,0.2", "0.5,0.5,0.5", "1,0,0", "a,b,c"])
def test_bad_split_shares_are_refused(text):
    with pytest.raises(UserError, match="--split"):
        formats.parse_split(text)


def test_prepare_splits_one_csv_and_shows_what_it_held_out(tmp_path):
    import csv
    from conftest import DEMO
    from textrnn.text.prepare import prepare
    rows = list(corpus.read_labelled(str(DEMO / "train.txt")))
    path = tmp_path / "all.csv"
    with open(path, "w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["label", "text"])
        writer.writerows([label, text] for _, label, text in rows)
    fmt = FileFormat(encoding="gb18030")
    first = prepare({"train": str(path)}, tmp_path / "a", tokenizer="char", progress_every=0,
                    file_format=fmt, split=(0.8, 0.1, 0.1), split_seed=2)
    again = prepare({"train": str(path)}, tmp_path / "b", tokenizer="char", progress_every=0,
                    file_format=fmt, split=(0.8, 0.1, 0.1), split_seed=2)
    assert {n: first["splits"][n]["lines"] for n in ("train", "val", "test")} == \
        {"train": 1200, "val": 150, "test": 150}
    for name in ("train", "val", "test"):
        held = (tmp_path / "a" / "raw" / f"{name}.txt").read_text(encoding="utf-8")
        assert held == (tmp_path / "b" / "raw" / f"{name}.txt").read_text(encoding="utf-8")
        assert first["splits"][name]["split"] == {"shares": [0.8, 0.1, 0.1], "seed": 2,
                                                  "part": name}
        assert first["splits"][name]["format"] == "csv"
    assert again["splits"]["val"]["labels"] == first["splits"]["val"]["labels"]


def test_a_bad_file_leaves_nothing_behind(tmp_path):
    from textrnn.text.prepare import prepare
    path = write(tmp_path / "bad.jsonl", '{"text": "好", "label": "a"}\n{"text": "坏"}\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2: no key 'label'"):
        prepare({"train": str(path)}, tmp_path / "out", split=(0.8, 0.1, 0.1),
                tokenizer="char", progress_every=0)
    assert not (tmp_path / "out").exists()


def test_prepare_command_reads_one_fasttext_file(tmp_path):
    from conftest import run_cli
    lines = "".join(f"__label__{'ab'[i % 2]} {'猫狗'[i % 2]}{i}\n" for i in range(40))
    path = write(tmp_path / "ft.txt", lines)
    result = run_cli("prepare", f"--train={path}", f"--out_dir={tmp_path / 'out'}",
                     "--tokenizer=char", "--split=0.5,0.25,0.25")
    assert result.returncode == 0, result.stderr
    assert "train 20, val 10, test 10 lines" in result.stdout
    assert (tmp_path / "out" / "raw" / "test.txt").read_text(encoding="utf-8").count("\n") == 10
