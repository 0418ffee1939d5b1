"""Several model directories exported as one SavedModel that averages their probabilities."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_MODEL, demo_paths, run_cli
from textrnn.training import export
from textrnn.serving.inference import Predictor
from textrnn.util.errors import UserError

TEXTS = ["国家队在世界杯预选赛中以2比0取胜", "央行宣布下调存款准备金率，股市应声上涨", "", "  新 游戏  "]


def train_small(data_dir, model_dir, seed):
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    train(TrainConfig(data_dir=str(data_dir), model_dir=str(model_dir), num_train_steps=100,
                      seed=seed, **TINY_MODEL))
    return model_dir


@pytest.fixture(scope="module")
def char_model(demo_prepared_char, tmp_path_factory):
    """A small char model of the demo corpus, exported on its own."""
    return train_small(demo_prepared_char, tmp_path_factory.mktemp("models") / "demo_char", 7)


@pytest.fixture(scope="module")
def bigram_model(tmp_path_factory):
    """A small model of the demo corpus' character pairs, exported on its own."""
    from textrnn.text.prepare import prepare
    data = tmp_path_factory.mktemp("prepared") / "demo_bigram"
    prepare(demo_paths(), data, tokenizer="bigram", num_workers=1, progress_every=0)
    return train_small(data, tmp_path_factory.mktemp("models") / "demo_bigram", 8)


@pytest.fixture(scope="module")
def ensemble(trained_model, char_model, bigram_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports") / "word_char_bigram"
    export.export_models([str(trained_model[0]), str(char_model), str(bigram_model)], str(out))
    return out


def test_char_and_bigram_members_learn_the_demo_corpus(char_model, bigram_model):
    # 100 small steps: about 0.4 (char) and 0.55 (bigram) measured; chance is 0.1
    for model_dir in (char_model, bigram_model):
        metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["test_accuracy"] > 0.25, (model_dir.name, metrics["test_accuracy"])


def serve(export_dir, texts):
    signature = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    return signature(text=tf.constant(texts))


def test_ensemble_averages_the_members_probabilities(trained_model, char_model, bigram_model,
                                                     ensemble):
    from textrnn.training import calibration
    dirs = (trained_model[0], char_model, bigram_model)
    members = [Predictor(str(d / "export")) for d in dirs]
    # a bigram model is served characters, like a char model: it pairs them in the graph
    assert [m.tokenizer_name for m in members] == ["jieba", "char", "char"]
    # each member serves calibrated probabilities; the ensemble averages them as they come
    # from the models (p ** T undoes a member's temperature T)
    uncalibrated = [calibration.temper(m.run([m.model_input(t) for t in TEXTS])["probabilities"],
                                       1.0 / calibration.Calibration.load(str(d)).temperature)
                    for m, d in zip(members, dirs)]
    expected = sum(uncalibrated) / 3
    both = Predictor(str(ensemble))
    assert both.tokenizer_name == "jieba"  # the word member decides how clients cut text
    got = both.run([both.model_input(t) for t in TEXTS])["probabilities"]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    out = serve(ensemble, [both.model_input(t) for t in TEXTS])
    assert list(out["class_id"].numpy()) == list(expected.argmax(-1))
    assert [l.decode() for l in out["label"].numpy()] == [both.labels[i] for i in expected.argmax(-1)]


def test_ensemble_info_lists_its_members(trained_model, char_model, bigram_model, ensemble):
    info = json.loads((ensemble / "assets.extra" / "textrnn.json").read_text(encoding="utf-8"))
    assert [m["model_dir"] for m in info["members"]] == [
        str(trained_model[0]), str(char_model), str(bigram_model)]
    assert [m["tokenizer"] for m in info["members"]] == ["jieba", "char", "bigram"]
    assert [m["encoder"]["split"] for m in info["members"]] == ["whitespace", "chars", "bigrams"]
    assert all(m["checkpoint"].startswith(m["model_dir"]) for m in info["members"])


def test_predict_cli_serves_the_ensemble(ensemble):
    result = run_cli("predict", f"--saved_model={ensemble}", "--format=json", TEXTS[1])
    assert result.returncode == 0, result.stderr[-2000:]
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["text"] == TEXTS[1] and row["label"]


def test_export_cli_takes_a_comma_separated_list(trained_model, char_model, tmp_path):
    result = run_cli("export", f"--model_dir={trained_model[0]},{char_model}",
                     f"--export_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "saved_model.pb").is_file()


def copy_model(source, destination):
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("export", "logs"))
    return destination


def test_members_with_other_categories_are_refused(trained_model, tmp_path):
    other = copy_model(trained_model[0], tmp_path / "reordered")
    labels = (other / "categories.txt").read_text(encoding="utf-8").splitlines()
    (other / "categories.txt").write_text("\n".join(labels[::-1]) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="reordered: its categories .* differ"):
        export.export_models([str(trained_model[0]), str(other)], str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_members_needing_different_segmentation_are_refused(trained_model, tmp_path):
    other = copy_model(trained_model[0], tmp_path / "with_dict")
    (tmp_path / "dict.txt").write_text("预选赛 10 n\n", encoding="utf-8")
    config = json.loads((other / "config.json").read_text(encoding="utf-8"))
    config["user_dict"] = str(tmp_path / "dict.txt")
    (other / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(UserError, match="differently segmented text"):
        export.export_models([str(trained_model[0]), str(other)], str(tmp_path / "out"))


@pytest.mark.parametrize("dirs, export_dir, message", [
    ([], "out", "--model_dir is required"),
    (["a", "b"], None, r"--export_dir \(or --serving_base\) is required"),
    (["a", "./a"], "out", "listed twice"),
    (["/nonexistent/model"], "out", "not a textrnn model directory"),
])
def test_bad_member_lists_are_clear_errors(dirs, export_dir, message):
    with pytest.raises(UserError, match=message):
        export.export_models(dirs, export_dir)
