"""The raw-file reader: what it accepts and how it reports bad lines."""

import pytest

from textrnn.text import corpus
from textrnn.text.corpus import BadLines, read_labelled
from textrnn.util.errors import UserError


def write(tmp_path, data: bytes, name="raw.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_reads_label_and_text_with_line_numbers(tmp_path):
    path = write(tmp_path, "体育\t球队赢了\n财经\t股市 上涨\n".encode())
    assert list(read_labelled(path)) == [(1, "体育", "球队赢了"), (2, "财经", "股市 上涨")]


def test_accepts_bom_and_crlf(tmp_path):
    path = write(tmp_path, "\ufeff体育\t球队\r\n财经\t股市\r\n".encode())
    assert [(label, text) for _, label, text in read_labelled(path)] == [("体育", "球队"), ("财经", "股市")]


def test_text_may_contain_further_tabs(tmp_path):
    path = write(tmp_path, "体育\t球队\t赢了\n".encode())
    assert list(read_labelled(path)) == [(1, "体育", "球队\t赢了")]


def test_blank_lines_are_ignored(tmp_path):
    path = write(tmp_path, "体育\t球队\n\n财经\t股市\n".encode())
    assert [n for n, _, _ in read_labelled(path)] == [1, 3]


@pytest.mark.parametrize("content, message", [
    ("体育\t球队\n没有制表符\n", "raw.txt:2: no TAB"),
    ("体育\t球队\n\t股市\n", "raw.txt:2: empty label"),
    ("体育\t球队\n财经\t  \n", "raw.txt:2: empty text"),
])
def test_malformed_line_names_file_and_line(tmp_path, content, message):
    path = write(tmp_path, content.encode())
    with pytest.raises(UserError, match=message):
        list(read_labelled(path))


def test_non_utf8_bytes_name_file_and_line(tmp_path):
    path = write(tmp_path, "体育\t球队\n".encode() + "财经\t股市\n".encode("gbk"))
    with pytest.raises(UserError, match=r"raw.txt:2: bytes that are not UTF-8"):
        list(read_labelled(path))


def test_missing_and_empty_files_are_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        list(read_labelled(str(tmp_path / "nope.txt")))
    with pytest.raises(UserError, match="empty"):
        list(read_labelled(write(tmp_path, b"")))


def test_skip_bad_lines_counts_instead_of_failing(tmp_path):
    path = write(tmp_path, "体育\t球队\n坏行\n\t空\n财经\t股市\n".encode())
    bad = BadLines()
    rows = list(read_labelled(path, bad))
    assert [label for _, label, _ in rows] == ["体育", "财经"]
    assert bad.count == 2 and "raw.txt:2" in bad.first[0]


@pytest.mark.parametrize("newline,last", [("\n", ""), ("\n", "\n"), ("\r\n", "\r\n")])
@pytest.mark.parametrize("target", [1, 7, 30, 1000])
def test_spans_cover_every_line_once_with_its_own_number(tmp_path, newline, last, target):
    lines = ["\ufeffa\t一二三", "", "b\t四五", "bad line", "c\t六" * 5, "d\t七八九十"]
    path = tmp_path / "raw.txt"
    path.write_bytes((newline.join(lines) + last).encode("utf-8"))
    parts = corpus.spans(str(path), target)
    assert parts[0].start == 0 and parts[-1].end == path.stat().st_size
    assert all(a.end == b.start and a.first_line + a.lines == b.first_line
               for a, b in zip(parts, parts[1:]))
    assert sum(p.lines for p in parts) == len(lines)
    whole_bad, part_bad = corpus.BadLines(), corpus.BadLines()
    whole = list(corpus.read_labelled(str(path), whole_bad))
    pieces = []
    for span in parts:
        bad = corpus.BadLines()
        pieces += corpus.read_labelled(str(path), bad, span)
        part_bad.extend(bad)
    assert pieces == whole and whole[0][1] == "a"  # the BOM goes with line 1 only
    assert part_bad == whole_bad and part_bad.first == [f"{path}:4: no TAB between label and "
                                                        "text (expected 'label<TAB>text')"]
