"""textrnn-prepare end to end: outputs, determinism, and every bad-input case."""

import collections
import json
import re

import pytest

from conftest import DEMO, demo_paths, run_cli, shared_data
from textrnn.text.prepare import prepare
from textrnn.util.errors import UserError

SPLITS = ("train", "val", "test")


def read_lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_demo_with_jieba_writes_all_outputs(demo_prepared):
    names = sorted(p.name for p in demo_prepared.iterdir())
    assert names == ["categories.txt", "manifest.json", "test.txt", "train.txt", "val.txt", "vocab.txt"]
    manifest = json.loads((demo_prepared / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tokenizer"] == "jieba"
    assert {s: manifest["splits"][s]["lines"] for s in SPLITS} == {"train": 1500, "val": 250, "test": 250}
    assert len(manifest["splits"]["train"]["sha256"]) == 64 and manifest["textrnn_version"]


def test_output_order_equals_input_order(demo_prepared):
    raw = [line.split("\t")[0] for line in read_lines(DEMO / "val.txt")]
    prepared = [line.split("\t")[0] for line in read_lines(demo_prepared / "val.txt")]
    assert raw == prepared


def test_tokens_are_space_separated_jieba_words(demo_prepared):
    label, tokens = read_lines(demo_prepared / "train.txt")[0].split("\t")
    raw_text = read_lines(DEMO / "train.txt")[0].split("\t")[1]
    assert "".join(tokens.split(" ")) == "".join(raw_text.split())
    assert any(len(token) > 1 for token in tokens.split(" "))  # words, not characters


def test_vocab_counts_train_only_with_reserved_tokens_first(demo_prepared):
    lines = read_lines(demo_prepared / "vocab.txt")
    assert lines[:2] == ["<PAD>\t0", "<UNK>\t0"]
    counts = [int(line.split("\t")[1]) for line in lines[2:]]
    assert counts == sorted(counts, reverse=True)
    train_tokens = sum(len(l.split("\t")[1].split(" ")) for l in read_lines(demo_prepared / "train.txt"))
    assert sum(counts) == train_tokens


def test_categories_are_the_ten_train_labels_sorted(demo_prepared):
    assert read_lines(demo_prepared / "categories.txt") == sorted(
        "体育 财经 房产 家居 教育 科技 时尚 时政 游戏 娱乐".split())


def test_char_tokenizer_splits_characters_and_drops_whitespace(demo_prepared_char):
    tokens = read_lines(demo_prepared_char / "train.txt")[0].split("\t")[1].split(" ")
    assert all(len(t) == 1 and not t.isspace() for t in tokens)


def test_bigram_tokenizer_keeps_characters_and_counts_adjacent_pairs(tmp_path, demo_prepared_char):
    out = tmp_path / "bigram"
    prepare(demo_paths(), out, tokenizer="bigram", num_workers=1, progress_every=0)
    assert (out / "train.txt").read_bytes() == (demo_prepared_char / "train.txt").read_bytes()
    expected = collections.Counter()
    for line in read_lines(demo_prepared_char / "train.txt"):
        chars = line.split("\t")[1].split(" ")
        expected.update(a + b for a, b in zip(chars, chars[1:]))
    counts = {t: int(n) for t, n in (l.split("\t") for l in read_lines(out / "vocab.txt")[2:])}
    assert counts == dict(expected) and all(len(t) == 2 for t in counts)


def test_parallel_workers_give_identical_output(tmp_path, demo_prepared):
    out = tmp_path / "parallel"
    prepare(demo_paths(), out, tokenizer="jieba", num_workers=2, progress_every=0)
    for name in ("train.txt", "val.txt", "test.txt", "vocab.txt", "categories.txt"):
        assert (out / name).read_bytes() == (demo_prepared / name).read_bytes(), name


def spans_of_a_few_lines(monkeypatch):
    """Spans of ~300 bytes: the demo's files in dozens of parts, split between workers."""
    from textrnn.text import prepare as module
    monkeypatch.setattr(module, "_SPAN_MIN_BYTES", 300)
    monkeypatch.setattr(module, "_SPAN_MAX_BYTES", 300)


def test_many_spans_in_two_workers_match_one_process(tmp_path, demo_prepared, monkeypatch):
    spans_of_a_few_lines(monkeypatch)
    out = tmp_path / "parallel"
    prepare(demo_paths(), out, tokenizer="jieba", num_workers=2, progress_every=0)
    for name in ("train.txt", "val.txt", "test.txt", "vocab.txt", "categories.txt"):
        assert (out / name).read_bytes() == (demo_prepared / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in demo_prepared.iterdir())


def test_bad_lines_in_late_spans_are_named_by_their_own_line(tmp_path, monkeypatch):
    spans_of_a_few_lines(monkeypatch)
    good = "".join(f"体育\t第{i}场比赛球队赢了\n" for i in range(200))
    raw = tmp_path / "raw.txt"
    raw.write_text(good + "no tab here\n" + good + "体育\t \u3000\n" + good + "其他\t新标签\n",
                   encoding="utf-8")
    paths = {s: str(raw) for s in SPLITS}
    with pytest.raises(UserError, match=re.escape(f"{raw}:201: no TAB")):
        prepare(paths, tmp_path / "strict", tokenizer="char", num_workers=2, progress_every=0)
    manifests = [prepare(paths, tmp_path / f"lenient{w}", tokenizer="char", num_workers=w,
                         progress_every=0, skip_bad_lines=True) for w in (1, 2)]
    for manifest in manifests:
        manifest.pop("seconds")
        assert manifest["splits"]["train"]["bad_lines"] == 2
        assert manifest["splits"]["train"]["bad_line_examples"][1].startswith(f"{raw}:402: ")
    assert manifests[0] == manifests[1]


@pytest.mark.parametrize("tokenizer", ["jieba", "char"])
def test_real_cnews_sample_prepares(tmp_path, tokenizer):
    data = shared_data("cnews")
    manifest = prepare({s: str(data / f"{s}.txt") for s in SPLITS}, tmp_path / "out",
                       tokenizer=tokenizer, num_workers=2, progress_every=0)
    assert [manifest["splits"][s]["lines"] for s in SPLITS] == [799, 103, 98]
    assert manifest["num_classes"] == 10 and manifest["distinct_tokens"] > 1000


def test_user_dict_keeps_a_word_whole(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("科技\t蓝鲸星链科技发布新品\n体育\t球队赢了\n", encoding="utf-8")
    user_dict = tmp_path / "dict.txt"
    user_dict.write_text("蓝鲸星链 100 n\n", encoding="utf-8")
    prepare({s: str(raw) for s in SPLITS}, tmp_path / "out", user_dict=str(user_dict), progress_every=0)
    assert "蓝鲸星链" in read_lines(tmp_path / "out" / "train.txt")[0].split("\t")[1].split(" ")


# --- bad input through the CLI: message names file:line, exit non-zero, no output ---

GOOD = "体育\t球队赢了比赛\n财经\t股市今天上涨\n"


def cli_prepare(tmp_path, train=GOOD, val=GOOD, test=GOOD, extra=(), raw_bytes=None):
    paths = {}
    for split, content in (("train", train), ("val", val), ("test", test)):
        path = tmp_path / f"{split}.txt"
        path.write_bytes(raw_bytes if (raw_bytes is not None and split == "val") else content.encode())
        paths[split] = path
    out = tmp_path / "out"
    result = run_cli("prepare", f"--train={paths['train']}", f"--val={paths['val']}",
                     f"--test={paths['test']}", f"--out_dir={out}", "--tokenizer=char", *extra)
    return result, out


@pytest.mark.parametrize("val, expected", [
    ("体育\t球队\n没有制表符的一行\n", "val.txt:2: no TAB"),
    ("体育\t球队\n\t空标签\n", "val.txt:2: empty label"),
    ("体育\t球队\n财经\t\n", "val.txt:2: empty text"),
    ("体育\t球队\n游戏\t新游戏\n时尚\t新衣\n游戏\t又一个\n", "labels that the training file does not have: '游戏' (first at"),
])
def test_bad_line_fails_with_file_and_line_and_writes_nothing(tmp_path, val, expected):
    result, out = cli_prepare(tmp_path, val=val)
    assert result.returncode != 0
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_unknown_labels_are_all_listed_with_their_first_line(tmp_path):
    result, _ = cli_prepare(tmp_path, val="体育\t球队\n游戏\t新游戏\n时尚\t新衣\n游戏\t又一个\n")
    assert "val.txt:2" in result.stderr and "'时尚' (first at" in result.stderr and "val.txt:3" in result.stderr


def test_non_utf8_input_fails_with_file_and_line(tmp_path):
    result, out = cli_prepare(tmp_path, raw_bytes="体育\t球队\n".encode() + "财经\t股市\n".encode("gbk"))
    assert result.returncode != 0 and "val.txt:2: bytes that are not UTF-8" in result.stderr
    assert not out.exists()


def test_missing_and_empty_files_fail_cleanly(tmp_path):
    result, out = cli_prepare(tmp_path, test="")
    assert result.returncode != 0 and "test.txt: the file is empty" in result.stderr
    result = run_cli("prepare", f"--train={tmp_path}/nope.txt", f"--val={tmp_path}/nope.txt",
                     f"--test={tmp_path}/nope.txt", f"--out_dir={tmp_path}/o2")
    assert result.returncode != 0 and "nope.txt: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_failed_run_leaves_previous_out_dir_untouched(tmp_path):
    result, out = cli_prepare(tmp_path)
    assert result.returncode == 0, result.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result, out = cli_prepare(tmp_path, val="体育\t球队\n坏行\n")
    assert result.returncode != 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_skip_bad_lines_skips_and_counts_them(tmp_path):
    result, out = cli_prepare(tmp_path, val="体育\t球队\n坏行\n财经\t\n财经\t股市\n",
                              extra=["--skip_bad_lines"])
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["splits"]["val"]["bad_lines"] == 2 and manifest["splits"]["val"]["lines"] == 2
    assert "skipped 2 bad lines" in result.stderr


def test_missing_flags_are_named(tmp_path):
    result = run_cli("prepare", f"--out_dir={tmp_path}/o")
    assert result.returncode != 0 and "--train" in result.stderr


def test_val_without_test_is_refused(tmp_path):
    result = run_cli("prepare", f"--train={DEMO / 'train.txt'}", f"--val={DEMO / 'val.txt'}",
                     f"--out_dir={tmp_path}/o")
    assert result.returncode == 2 and "--train alone" in result.stderr


def test_sigkill_mid_run_leaves_out_dir_as_it_was(tmp_path):
    import signal
    import subprocess
    import sys
    from conftest import ROOT
    lines = (DEMO / "train.txt").read_text(encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_text(lines * 60, encoding="utf-8")  # ~24 MB: seconds of work
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("previous run")
    process = subprocess.Popen(
        [sys.executable, "-m", "textrnn.prepare", f"--train={big}", f"--val={DEMO / 'val.txt'}",
         f"--test={DEMO / 'test.txt'}", f"--out_dir={out}", "--tokenizer=char",
         "--num_workers=1", "--progress_every=1000"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = process.stderr.readline()  # the first progress line: work is under way
    assert re.search(r"train: [\d,]+/90,000 lines, [\d,]+ lines/s, about \d+m\d\ds left", first), first
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    process.stderr.close()
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]


def test_default_worker_count_follows_the_input_size(tmp_path):
    from textrnn.text.prepare import PARALLEL_MIN_MB, default_workers
    small = {split: str(DEMO / f"{split}.txt") for split in ("train", "val", "test")}
    assert default_workers(small, cpus=8) == 1
    big = tmp_path / "big.txt"
    with open(big, "wb") as out:  # sparse: the size counts, not the bytes written
        out.truncate(PARALLEL_MIN_MB * 2**20)
    assert default_workers({**small, "train": str(big)}, cpus=8) == 8
