"""The SavedModel: signature, equivalence with the Keras model, edge inputs, atomicity."""

import json
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from textrnn import artifacts, export


@pytest.fixture(scope="module")
def served(trained_model):
    model_dir, _ = trained_model
    return tf.saved_model.load(str(model_dir / "export")).signatures["serving_default"]


def test_signature_names_and_dtypes(served):
    inputs = served.structured_input_signature[1]
    assert list(inputs) == ["text"] and inputs["text"].dtype == tf.string
    assert inputs["text"].shape.as_list() == [None]
    outputs = served.structured_outputs
    assert {k: v.dtype for k, v in outputs.items()} == {
        "probabilities": tf.float32, "class_id": tf.int64, "label": tf.string,
        "unknown_share": tf.float32}


def test_saved_model_matches_the_keras_model(trained_model, demo_prepared, served):
    model_dir, _ = trained_model
    texts = [line.split("\t")[1] for line in
             (demo_prepared / "test.txt").read_text(encoding="utf-8").splitlines()[:64]]
    model, config, _ = artifacts.load_model(str(model_dir))
    ids = artifacts.token_encoder(str(model_dir), config)(tf.constant(texts))
    expected = tf.nn.softmax(model(ids, training=False)).numpy()
    got = served(text=tf.constant(texts))
    np.testing.assert_allclose(got["probabilities"].numpy(), expected, atol=1e-5)
    categories = (model_dir / "categories.txt").read_text(encoding="utf-8").split()
    assert [l.decode() for l in got["label"].numpy()] == [categories[i] for i in expected.argmax(-1)]


def test_fresh_process_without_textrnn_gives_the_same_predictions(trained_model, demo_prepared, served):
    model_dir, _ = trained_model
    texts = [line.split("\t")[1] for line in
             (demo_prepared / "val.txt").read_text(encoding="utf-8").splitlines()[:20]]
    script = textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf
        serve = tf.saved_model.load({str(model_dir / 'export')!r}).signatures["serving_default"]
        out = serve(text=tf.constant(json.loads(sys.stdin.read())))
        assert "textrnn" not in sys.modules
        print(json.dumps(out["probabilities"].numpy().tolist()))
    """)
    result = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), text=True,
                            capture_output=True, timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    fresh = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(fresh, served(text=tf.constant(texts))["probabilities"].numpy(), atol=1e-5)


def test_edge_inputs_give_valid_outputs(served):
    texts = ["", "   ", "完全 没见过 的 词 ＠＠＠", " ".join(["球队"] * 5000)]
    out = served(text=tf.constant(texts))
    probabilities = out["probabilities"].numpy()
    assert probabilities.shape == (4, 10) and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    assert all(label for label in out["label"].numpy())


def test_empty_batch_gives_empty_outputs(served):
    out = served(text=tf.constant([], tf.string))
    assert out["probabilities"].shape == (0, 10)


def test_export_info_records_the_tokenizer(trained_model):
    model_dir, _ = trained_model
    info = json.loads((model_dir / "export" / "assets.extra" / "textrnn.json").read_text())
    assert info["tokenizer"] == "jieba" and len(info["labels"]) == 10


def test_interrupted_export_leaves_the_previous_export_intact(trained_model, monkeypatch):
    model_dir, _ = trained_model
    before = (model_dir / "export" / "saved_model.pb").read_bytes()

    def crash(tmp_dir, *args):  # after the SavedModel is written, before the swap
        assert pathlib.Path(tmp_dir, "saved_model.pb").exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_write_info", crash)
    with pytest.raises(KeyboardInterrupt):
        export.export_model(str(model_dir))
    assert (model_dir / "export" / "saved_model.pb").read_bytes() == before
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".export")]


def test_saved_model_cli_shows_the_signature(trained_model):
    model_dir, _ = trained_model
    cli = subprocess.run([sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show",
                          "--all", "--dir", str(model_dir / "export")],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    for name in ("serving_default", "inputs['text']", "outputs['probabilities']",
                 "outputs['class_id']", "outputs['label']"):
        assert name in cli.stdout
