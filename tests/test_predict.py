"""textrnn-predict on raw Chinese text: arguments, file, stdin, formats, errors."""

import json

import pytest

from conftest import DEMO, run_cli

TEXTS = ["国家队在世界杯预选赛中以2比0取胜，主教练赛后表示满意", "央行宣布下调存款准备金率，股市应声上涨"]


@pytest.fixture(scope="module")
def model_dir(trained_model):
    return trained_model[0]


def json_lines(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_texts_from_arguments_as_json(model_dir):
    result = run_cli("predict", f"--model_dir={model_dir}", "--format=json", "--top_k=3", *TEXTS)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json_lines(result.stdout)
    assert [r["text"] for r in rows] == TEXTS
    for row in rows:
        assert len(row["top_k"]) == 3 and row["top_k"][0]["label"] == row["label"]
        probabilities = [p["probability"] for p in row["top_k"]]
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001


def test_texts_from_file_and_stdin_agree(model_dir, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    from_file = run_cli("predict", f"--saved_model={model_dir}/export", f"--input_file={path}",
                        "--format=json")
    from_stdin = run_cli("predict", f"--model_dir={model_dir}", "--format=json",
                         stdin="\n".join(TEXTS) + "\n")
    assert from_file.returncode == 0 and from_stdin.returncode == 0, from_file.stderr + from_stdin.stderr
    assert json_lines(from_file.stdout) == json_lines(from_stdin.stdout)
    assert len(json_lines(from_file.stdout)) == 2


def test_table_format_shows_label_probability_and_text(model_dir):
    result = run_cli("predict", f"--model_dir={model_dir}", TEXTS[0])
    assert result.returncode == 0
    label, probability = result.stdout.split("\t")[0].split()
    assert label in "体育 财经 房产 家居 教育 科技 时尚 时政 游戏 娱乐".split()
    assert 0 < float(probability) <= 1 and TEXTS[0][:10] in result.stdout


def test_predictions_match_the_trained_labels_on_demo_text(model_dir):
    from conftest import DEMO
    rows = [line.split("\t") for line in (DEMO / "test.txt").read_text(encoding="utf-8").splitlines()[:30]]
    result = run_cli("predict", f"--model_dir={model_dir}", "--format=json",
                     stdin="\n".join(text for _, text in rows) + "\n")
    predicted = [row["label"] for row in json_lines(result.stdout)]
    correct = sum(p == label for p, (label, _) in zip(predicted, rows))
    assert correct >= 15  # the fixture model scores ~0.75 on this split


def test_edge_texts_give_valid_rows(model_dir):
    result = run_cli("predict", f"--model_dir={model_dir}", "--format=json",
                     stdin="\n  \n@@@###\n" + "球" * 20000 + "\n")
    rows = json_lines(result.stdout)
    assert result.returncode == 0 and len(rows) == 4
    assert all(0 < row["probability"] <= 1 for row in rows)


def test_non_utf8_input_file_names_file_and_line(model_dir, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("好的\n".encode() + "坏的\n".encode("gbk"))
    result = run_cli("predict", f"--model_dir={model_dir}", f"--input_file={path}")
    assert result.returncode != 0 and "bad.txt:2: bytes that are not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_is_a_clear_error(tmp_path):
    result = run_cli("predict", f"--model_dir={tmp_path}", "文本")
    assert result.returncode != 0 and "no SavedModel there" in result.stderr


def test_unknown_share_in_json_and_a_warning_for_people(model_dir):
    known, foreign = TEXTS[0], "Zyxq Wvut Srqp 乂乃乄"
    result = run_cli("predict", f"--model_dir={model_dir}", "--format=json", known, foreign)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json_lines(result.stdout)
    assert rows[0]["unknown_share"] < 0.5 and rows[1]["unknown_share"] == 1.0
    warnings = [l for l in result.stderr.splitlines() if "warning:" in l]
    assert len(warnings) == 1 and "text 2" in warnings[0] and "100% of its tokens" in warnings[0]


def test_texts_from_a_csv_in_gb18030_agree_with_arguments(model_dir, tmp_path):
    path = tmp_path / "texts.csv"
    rows = "".join(f'{i},"{text}"\n' for i, text in enumerate(TEXTS))
    path.write_bytes(("id,review\n" + rows).encode("gb18030"))
    from_csv = run_cli("predict", f"--model_dir={model_dir}", f"--input_file={path}",
                       "--encoding=gb18030", "--text_column=review", "--format=json")
    from_args = run_cli("predict", f"--model_dir={model_dir}", "--format=json", *TEXTS)
    assert from_csv.returncode == 0, from_csv.stderr[-2000:]
    assert json_lines(from_csv.stdout) == json_lines(from_args.stdout)


def test_json_carries_the_prediction_set_and_abstentions_are_marked(abstaining_export,
                                                                   tmp_path):
    export_dir = abstaining_export[0]
    texts = [line.split("\t", 1)[1] for line in
             (DEMO / "test.txt").read_text(encoding="utf-8").splitlines()[:60]]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    result = run_cli("predict", f"--saved_model={export_dir}", f"--input_file={path}",
                     "--format=json")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json_lines(result.stdout)
    for row in rows:
        answer = "其他" if row["abstain"] else row["label_set"][0]  # its abstain label
        assert row["label"] == answer and 1 <= len(row["label_set"]) <= 10
        assert row["top_k"][0]["label"] == row["label_set"][0]
        assert row["confidence"] == pytest.approx(row["probability"], abs=1e-6)
    abstained = [row["abstain"] for row in rows]
    table = run_cli("predict", f"--saved_model={export_dir}", f"--input_file={path}")
    assert table.returncode == 0, table.stderr[-2000:]
    marked = [line.startswith("abstains: 其他 (") for line in table.stdout.splitlines()]
    assert marked == abstained and any(marked)


def test_explain_prints_json_records_and_writes_one_page(model_dir, tmp_path):
    page = tmp_path / "why.html"
    result = run_cli("predict", f"--model_dir={model_dir}", "--explain", "--format=json",
                     f"--explain_html={page}", "<i>" + TEXTS[0], TEXTS[1])
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json_lines(result.stdout)
    assert [r["text"] for r in rows] == ["<i>" + TEXTS[0], TEXTS[1]]
    for row in rows:
        assert all(row["text"][u["start"]:u["end"]] == u["token"] for u in row["units"])
        assert 0 <= row["baseline_probability"] <= 1 and 0 < row["probability"] <= 1
    html = page.read_text(encoding="utf-8")
    assert html.count('class="textrnn-explanation"') == 2 and "<i>" not in html
    wrong = run_cli("predict", f"--model_dir={model_dir}", "--explain_label=nope", TEXTS[0])
    assert wrong.returncode != 0 and "--explain_label=nope" in wrong.stderr
