"""The SavedModel: signature, equivalence with the Keras model, edge inputs, atomicity."""

import json
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from conftest import DEMO, run_cli, run_python
from textrnn.training import export
from textrnn.text import tokenize
from textrnn.training import artifacts


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
        "unknown_share": tf.float32, "label_set": tf.string, "set_size": tf.int32,
        "confidence": tf.float32, "abstain": tf.bool}


def keras_probabilities(model_dir, model, ids):
    """What serving_default should give: the Keras model's softmax at the temperature
    training calibrated."""
    from textrnn.training import calibration
    temperature = calibration.Calibration.load(str(model_dir)).temperature
    return calibration.temper(tf.nn.softmax(model(ids, training=False)).numpy(), temperature)


def test_saved_model_matches_the_keras_model(trained_model, demo_prepared, served):
    model_dir, _ = trained_model
    texts = [line.split("\t")[1] for line in
             (demo_prepared / "test.txt").read_text(encoding="utf-8").splitlines()[:64]]
    model, config, _ = artifacts.load_model(str(model_dir))
    ids = artifacts.token_encoder(str(model_dir), config)(tf.constant(texts))
    expected = keras_probabilities(model_dir, model, ids)
    got = served(text=tf.constant(texts))
    np.testing.assert_allclose(got["probabilities"].numpy(), expected, atol=1e-5)
    categories = (model_dir / "categories.txt").read_text(encoding="utf-8").split()
    assert [l.decode() for l in got["label"].numpy()] == [categories[i] for i in expected.argmax(-1)]


# a process where importing jieba or textrnn fails: serving needs TensorFlow only
_NO_JIEBA = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("jieba", "textrnn"):
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Refuse())
"""


def raw_demo_texts(split, count):
    lines = (DEMO / f"{split}.txt").read_text(encoding="utf-8").splitlines()[:count]
    return [line.split("\t", 1)[1] for line in lines]


def test_fresh_process_without_jieba_or_textrnn_gives_the_same_predictions(trained_model, served):
    model_dir, _ = trained_model
    texts = raw_demo_texts("val", 20)
    script = _NO_JIEBA + textwrap.dedent(f"""
        import json
        try:
            import jieba
            raise SystemExit("jieba was importable")
        except ImportError:
            pass
        import tensorflow as tf
        model = tf.saved_model.load({str(model_dir / 'export')!r})
        texts = tf.constant(json.loads(sys.stdin.read()))
        out = model.signatures["serving_default"](text=texts)
        tokens = model.signatures["tokenize"](text=texts)["tokens"]
        assert "textrnn" not in sys.modules and "jieba" not in sys.modules
        print(json.dumps([out["probabilities"].numpy().tolist(),
                          [[t.decode() for t in row if t] for row in tokens.numpy()]]))
    """)
    result = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), text=True,
                            capture_output=True, timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    probabilities, tokens = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(np.array(probabilities),
                               served(text=tf.constant(texts))["probabilities"].numpy(), atol=1e-5)
    assert tokens == [tokenize.jieba_tokens(t) for t in texts]


def test_word_model_reads_raw_text_as_prepare_cut_it(trained_model, served):
    model_dir, _ = trained_model
    texts = raw_demo_texts("test", 64)
    model, config, _ = artifacts.load_model(str(model_dir))
    cut = [" ".join(tokenize.jieba_tokens(t)) for t in texts]
    ids = artifacts.token_encoder(str(model_dir), config)(tf.constant(cut))
    expected = keras_probabilities(model_dir, model, ids)
    got = served(text=tf.constant(texts))["probabilities"].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_tokenize_signature_shows_the_words(trained_model):
    model = tf.saved_model.load(str(trained_model[0] / "export"))
    texts = ["皇马主场三比一击败巴萨，C罗梅开二度", "", "iPhone 14 发布"]
    tokens = model.signatures["tokenize"](text=tf.constant(texts))["tokens"]
    assert tokens.dtype == tf.string and tokens.shape[0] == 3
    assert [[t.decode() for t in row if t] for row in tokens.numpy()] == [
        tokenize.jieba_tokens(t) for t in texts]


def test_a_server_survives_its_clients(trained_model):
    """Empty strings, a 1 MB text, invalid UTF-8 and 10,000 texts each get an answer."""
    model = tf.saved_model.load(str(trained_model[0] / "export"))
    serve, cut = model.signatures["serving_default"], model.signatures["tokenize"]
    text = "".join(raw_demo_texts("train", 2000))
    megabyte = (text * (2**20 // len(text.encode()) + 1)).encode()[:2**20].decode(errors="ignore")
    batches = {"empty": [""] * 3, "megabyte": [megabyte], "invalid": [b"\xff\xfe\xc3(", b"\x80abc"],
               "many": raw_demo_texts("train", 100) * 100}
    for name, texts in batches.items():
        out = serve(text=tf.constant(texts))
        probabilities = out["probabilities"].numpy()
        assert probabilities.shape == (len(texts), 10), name
        assert np.isfinite(probabilities).all(), name
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
        tokens = cut(text=tf.constant(texts))["tokens"].numpy()
        assert tokens.shape[0] == len(texts), name
        for row in tokens[:3]:
            [t.decode("utf-8") for t in row]  # valid UTF-8 back, even for invalid input


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


def _confidence_outputs(export_dir, texts):
    out = tf.saved_model.load(str(export_dir)).signatures["serving_default"](
        text=tf.constant(texts))
    return {k: v.numpy() for k, v in out.items()}


def test_confidence_outputs_equal_the_same_rules_in_numpy(trained_model, abstaining_export):
    """label_set, set_size, confidence, abstain and an abstain label, as the graph computes
    them, against calibration.py's rules on the graph's own probabilities."""
    from textrnn.training import calibration
    model_dir, _ = trained_model
    export_dir, target = abstaining_export
    record = calibration.Calibration.load(str(model_dir))
    texts = raw_demo_texts("test", 200)
    out = _confidence_outputs(export_dir, texts)
    written = json.loads((export_dir / "assets.extra" / "textrnn.json").read_text())
    info, labels = written["confidence"], written["labels"]
    served = record.served(conformal_alpha=0.2, abstain_target_accuracy=target)
    assert info["conformal_alpha"] == 0.2 and info["conformal_floor"] == served.floor
    assert info["abstain"]["threshold"] == served.abstain.threshold
    p = out["probabilities"]
    member = calibration.prediction_sets(p, served.floor)
    for row, chosen, got in zip(p, member, out["label_set"]):
        expected = [labels[i] for i in np.argsort(-row, kind="stable") if chosen[i]]
        assert [g.decode() for g in got if g] == expected
    np.testing.assert_array_equal(out["set_size"], member.sum(1))
    np.testing.assert_allclose(out["confidence"], p.max(1), atol=0)
    abstain = p.max(1) < served.abstain.threshold
    np.testing.assert_array_equal(out["abstain"], abstain)
    assert abstain.any() and not abstain.all()  # the demo model is unsure of some texts
    guesses = [labels[i] for i in p.argmax(1)]
    assert [l.decode() for l in out["label"]] == [
        "其他" if a else g for a, g in zip(abstain, guesses)]
    assert (out["class_id"] == p.argmax(1)).all()  # the guess stays in class_id


def test_a_model_without_calibration_exports_the_old_outputs(trained_model, tmp_path):
    """Runs of earlier versions (and TF1 imports) have no calibration.json: their export
    serves what it served before, and asking for sets is a clear error."""
    import shutil
    from textrnn.serving.inference import Predictor
    model_dir, _ = trained_model
    old = tmp_path / "old"
    shutil.copytree(model_dir, old, ignore=shutil.ignore_patterns("export", "calibration.json"))
    export_dir = export.export_model(str(old))
    out = _confidence_outputs(export_dir, raw_demo_texts("test", 3))
    assert set(out) == {"probabilities", "class_id", "label", "unknown_share"}
    predictor = Predictor(export_dir)
    assert predictor.confidence is None and set(predictor.run(["球队"])) == set(out)
    with pytest.raises(export.UserError, match="--conformal_alpha: .* has no calibration"):
        export.export_models([str(old)], str(tmp_path / "y"), confidence=dict(
            conformal_alpha=0.2))


def test_export_info_records_the_tokenizer(trained_model):
    model_dir, _ = trained_model
    info = json.loads((model_dir / "export" / "assets.extra" / "textrnn.json").read_text())
    assert info["tokenizer"] == "jieba" and len(info["labels"]) == 10
    assert info["input"] == "raw" and info["jieba_hmm"] is False


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
    cli = run_python("tensorflow.python.tools.saved_model_cli", "show", "--all", "--dir",
                     model_dir / "export", timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    for name in ("serving_default", "tokenize", "outputs['tokens']", "inputs['text']",
                 "outputs['probabilities']",
                 "outputs['class_id']", "outputs['label']"):
        assert name in cli.stdout


def test_a_model_cut_with_the_hmm_takes_segmented_text(hmm_model):
    """The graph cannot reproduce jieba's HMM: such a model says so and predict cuts for it."""
    from textrnn.serving.inference import Predictor
    tmp_path = hmm_model
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["jieba_hmm"] is True
    export_dir = tmp_path / "model" / "export"
    info = json.loads((export_dir / "assets.extra" / "textrnn.json").read_text(encoding="utf-8"))
    assert info["input"] == "segmented" and info["jieba_hmm"] is True
    text = "小明硕士毕业于中国科学院计算所"
    predictor = Predictor(str(export_dir))
    assert predictor.model_input(text) == " ".join(tokenize.jieba_tokens(text, hmm=True))
    tokens = tf.saved_model.load(str(export_dir)).signatures["tokenize"](
        text=tf.constant(["中国 科学院"]))["tokens"]
    assert [t.decode() for t in tokens.numpy()[0]] == ["中国", "科学院"]


def test_the_user_dictionary_travels_in_the_saved_model(tmp_path):
    """A word of prepare's --user_dict is cut whole by the SavedModel, jieba absent or not."""
    from conftest import TINY_MODEL, demo_paths
    from textrnn.text.prepare import prepare
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    user_dict = tmp_path / "dict.txt"
    user_dict.write_text("瓦力普斯特 10 n\n", encoding="utf-8")
    prepare(demo_paths(), tmp_path / "data", tokenizer="jieba", user_dict=str(user_dict),
            num_workers=1, progress_every=0)
    train(TrainConfig(data_dir=str(tmp_path / "data"), model_dir=str(tmp_path / "model"),
                      num_train_steps=10, **{**TINY_MODEL, "eval_every_steps": 10}))
    user_dict.unlink()  # the SavedModel must not need the file any more
    tokens = tf.saved_model.load(str(tmp_path / "model" / "export")).signatures["tokenize"](
        text=tf.constant(["瓦力普斯特来了"]))["tokens"]
    assert [t.decode() for t in tokens.numpy()[0] if t] == ["瓦力普斯特", "来", "了"]


def _graph_ops(export_dir):
    """Every op type in a SavedModel's graph and its functions."""
    from tensorflow.core.protobuf import saved_model_pb2
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((pathlib.Path(export_dir) / "saved_model.pb").read_bytes())
    graph = saved.meta_graphs[0].graph_def
    return {node.op for node in graph.node} | {
        node.op for function in graph.library.function for node in function.node_def}


@pytest.fixture
def as_on_a_gpu(monkeypatch):
    """Keras and textrnn choose their kernels as they would with a GPU present."""
    import importlib
    from textrnn.training.recurrent import model
    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")  # the package shadows it
    monkeypatch.setattr(rnn, "_is_gpu_available", lambda: True)
    monkeypatch.setattr(model, "_gpu_present", lambda: True)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_tracing_as_on_a_gpu_would_put_cudnn_ops_in_the_graph(as_on_a_gpu, cell):
    """What the export must avoid: the check below is only meaningful if this holds."""
    from textrnn.training.recurrent.model import ModelConfig, build_model
    net = build_model(ModelConfig(vocab_size=20, num_classes=3, cell=cell))
    traced = tf.function(lambda ids: net(ids, training=False)).get_concrete_function(
        tf.TensorSpec([None, None], tf.int32))
    assert any(op.type.startswith("CudnnRNN") for op in traced.graph.get_operations())


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_portable_kernels_leave_no_cudnn_op_as_on_a_gpu(as_on_a_gpu, cell):
    from textrnn.training.recurrent.model import ModelConfig, build_model, portable_kernels
    net = build_model(ModelConfig(vocab_size=20, num_classes=3, cell=cell, bidirectional=True))
    with portable_kernels([net]):
        traced = tf.function(lambda ids: net(ids, training=False)).get_concrete_function(
            tf.TensorSpec([None, None], tf.int32))
    assert not any(op.type.startswith("Cudnn") for op in traced.graph.get_operations())
    assert net.layers[2].forward_layer.use_cudnn == "auto"  # restored after the block


def test_export_traced_as_on_a_gpu_runs_here_and_equals_the_cpu_export(
        trained_model, tmp_path, as_on_a_gpu, served):
    """A SavedModel exported on a GPU machine has no cuDNN-only op, so it runs on a
    CPU, and gives the probabilities the CPU-traced export gives."""
    model_dir, _ = trained_model
    gpu_export = export.export_model(str(model_dir), str(tmp_path / "gpu"))
    ops = _graph_ops(gpu_export)
    assert not {op for op in ops if op.startswith("Cudnn")} and "BlockLSTM" in ops
    texts = tf.constant(raw_demo_texts("test", 64))
    got = tf.saved_model.load(gpu_export).signatures["serving_default"](text=texts)
    np.testing.assert_allclose(got["probabilities"].numpy(),
                               served(text=texts)["probabilities"].numpy(), atol=1e-6)


def test_export_builds_the_model_in_float32_whatever_precision_is_set(
        trained_model, tmp_path, served):
    """Training under mixed_float16 leaves that policy set; the export is float32 anyway
    (float16 math would move the probabilities by about 1e-3, and differ by device)."""
    import keras
    model_dir, _ = trained_model
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        export_dir = export.export_model(str(model_dir), str(tmp_path / "export"))
        assert keras.mixed_precision.dtype_policy().name == "mixed_float16"  # restored
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    texts = tf.constant(raw_demo_texts("test", 64))
    got = tf.saved_model.load(export_dir).signatures["serving_default"](text=texts)
    np.testing.assert_allclose(got["probabilities"].numpy(),
                               served(text=texts)["probabilities"].numpy(), atol=1e-6)


def test_serving_base_gets_the_next_numbered_version(trained_model, tmp_path):
    from textrnn.util.saved_model import next_version_dir, version_dirs
    model_dir, _ = trained_model
    base = tmp_path / "base"
    (base / "7").mkdir(parents=True)  # an earlier version (even an empty one) keeps its number
    (base / ".8.tmp-x").mkdir()      # a writer's leftover is no version
    written = export.export_models([str(model_dir)], serving_base=str(base))
    assert pathlib.Path(written) == base / "8" and (base / "8" / "saved_model.pb").is_file()
    assert pathlib.Path(next_version_dir(str(base))) == base / "9"
    assert version_dirs(str(base)) == {8: str(base / "8")}  # 7 holds no SavedModel
    assert not [p for p in base.iterdir() if ".tmp-" in p.name and p.name != ".8.tmp-x"]
    with pytest.raises(export.UserError, match="not both"):
        export.export_models([str(model_dir)], str(tmp_path / "x"), serving_base=str(base))


def test_the_export_command_changes_alpha_without_retraining(trained_model, tmp_path):
    model_dir, _ = trained_model
    result = run_cli("export", f"--model_dir={model_dir}", f"--export_dir={tmp_path / 'x'}",
                     "--conformal_alpha=0.05")
    assert result.returncode == 0, result.stderr[-2000:]
    info = json.loads((tmp_path / "x" / "assets.extra" / "textrnn.json").read_text())
    assert info["confidence"]["conformal_alpha"] == 0.05
    assert info["confidence"]["abstain"] is None  # training's setting (off) stays
    assert "prediction sets at alpha 0.05" in result.stderr
