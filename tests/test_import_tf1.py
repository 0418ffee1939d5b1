"""textrnn-import-tf1: a tf.train.Saver checkpoint of the original graph becomes a
textrnn model directory whose model, and export, give the original's logits.

The checkpoints are written here the TF1 way (graph, get_variable, Saver) with
the original graph's variable names, Adam's slots and an int64 global_step. The
expected logits come from the numpy oracle in TF1 semantics: BasicLSTMCell
(gates i, j, f, o, forget bias at run time) over every one of num_timesteps
steps, `<UNK>` padding included, read at the last step.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from conftest import run_cli
from textrnn.training import artifacts
import reference as ref
from textrnn.training.tf1_import import EMBEDDING, cell_name, fc_name, import_checkpoint
from textrnn.util.errors import UserError

tf = pytest.importorskip("tensorflow")

THRESHOLD = 10
# word<TAB>frequency, most frequent first as the original's file; <UNK> is not
# on top, and words under the threshold sit in the middle and at the end.
VOCAB = [("的", 900), ("在", 700), ("<UNK>", 500), ("比赛", 300), ("球队", 120), ("罕见", 3),
         ("股市", 80), ("上涨", 40), ("房价", 25), ("学校", 11), ("考试", 10), ("明星", 9),
         ("电影", 4)]
KEPT = [word for word, count in VOCAB if count >= THRESHOLD]
UNK_ID = KEPT.index("<UNK>")
CATEGORIES = ["体育", "财经", "房产", "教育", "娱乐"]
GLOBAL_STEP = 10000
TEXTS = [
    "比赛 的 球队",  # short: read after dozens of <UNK> padding steps
    "股市 上涨 罕见 明星 没见过 房价",  # dropped (罕见, 明星) and unknown words -> <UNK>
    "",  # nothing but padding
    " ".join(KEPT[i % len(KEPT)] for i in range(60)),  # longer than any num_timesteps: truncated
]
# Layer configurations: the original's sizes, and others the importer must infer.
CONFIGS = {
    "original": dict(embedding=16, units=(32, 32), fc=32, timesteps=50),
    "one_layer": dict(embedding=8, units=(8,), fc=6, timesteps=7),
    "three_layers": dict(embedding=5, units=(8, 6, 4), fc=7, timesteps=9),
}


# ----------------------------------------------------------- the original's files


def original_weights(sizes, vocab_size=len(KEPT), num_classes=len(CATEGORIES), seed=0):
    """Random float32 weights under the original's variable names."""
    rng = np.random.default_rng(seed)
    weights = {EMBEDDING: rng.uniform(-1, 1, (vocab_size, sizes["embedding"]))}
    width = sizes["embedding"]
    for i, units in enumerate(sizes["units"]):
        weights[cell_name(i, "kernel")] = rng.uniform(-0.5, 0.5, (width + units, 4 * units))
        weights[cell_name(i, "bias")] = rng.uniform(-0.5, 0.5, (4 * units,))
        width = units
    for layer, units in (("fc1", sizes["fc"]), ("fc2", num_classes)):
        weights[fc_name(layer, "kernel")] = rng.uniform(-0.5, 0.5, (width, units))
        weights[fc_name(layer, "bias")] = rng.uniform(-0.5, 0.5, (units,))
        width = units
    return {name: value.astype(np.float32) for name, value in weights.items()}


def write_tf1_checkpoint(directory, weights, global_step=GLOBAL_STEP):
    """Save `weights` as the original did: tf.compat.v1 variables, Adam slots, a Saver.

    Returns the prefix (directory/model.ckpt-<step>).
    """
    def variable(name, value, trainable=True):
        scope, _, leaf = name.rpartition("/")
        with tf.compat.v1.variable_scope(scope or tf.compat.v1.get_variable_scope()):
            tf.compat.v1.get_variable(leaf, initializer=tf.constant(value), trainable=trainable)

    with tf.Graph().as_default():
        for name, value in weights.items():
            variable(name, value)
            variable(f"{name}/Adam", np.full_like(value, 0.01), trainable=False)
            variable(f"{name}/Adam_1", np.full_like(value, 0.02), trainable=False)
        variable("beta1_power", np.float32(0.9 ** GLOBAL_STEP), trainable=False)
        variable("beta2_power", np.float32(0.999 ** GLOBAL_STEP), trainable=False)
        variable("global_step", np.int64(global_step), trainable=False)
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            prefix = saver.save(session, os.path.join(directory, "model.ckpt"),
                                global_step=global_step)
    saved = dict(tf.train.list_variables(prefix))
    assert all(saved[name] == list(value.shape) for name, value in weights.items())
    return prefix


def write_inputs(directory):
    """The original's vocabulary and category files."""
    vocab_file, category_file = directory / "vocab.txt", directory / "category.txt"
    vocab_file.write_text("".join(f"{w}\t{c}\n" for w, c in VOCAB), encoding="utf-8")
    category_file.write_text("".join(f"{label}\n" for label in CATEGORIES), encoding="utf-8")
    return str(vocab_file), str(category_file)


def original_ids(text, num_timesteps):
    """The original's encoding: ids in kept-file order, truncated, padded with <UNK>."""
    index = {word: i for i, word in enumerate(KEPT)}
    ids = [index.get(word, UNK_ID) for word in text.split()][:num_timesteps]
    return ids + [UNK_ID] * (num_timesteps - len(ids))


def original_logits(weights, ids):
    """The original graph's forward pass in numpy (keep_prob 1.0)."""
    cells = [ref.make_cell(ref.tf1_lstm_cell, weights[cell_name(i, "kernel")],
                           weights[cell_name(i, "bias")], forget_bias=1.0)
             for i in range(sum(1 for name in weights if name.endswith("basic_lstm_cell/bias")))]
    # No lengths: the original ran every step, padding included, and read the last.
    outputs, _ = ref.stacked(cells, weights[EMBEDDING][np.asarray(ids)])
    hidden = np.maximum(outputs[:, -1] @ weights[fc_name("fc1", "kernel")]
                        + weights[fc_name("fc1", "bias")], 0.0)
    return hidden @ weights[fc_name("fc2", "kernel")] + weights[fc_name("fc2", "bias")]


def softmax(logits):
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def imported(request, tmp_path_factory):
    """(model_dir, weights, sizes) of an imported checkpoint, one per layer configuration."""
    sizes = CONFIGS[request.param]
    root = tmp_path_factory.mktemp(request.param)
    weights = original_weights(sizes, seed=len(sizes["units"]))
    prefix = write_tf1_checkpoint(str(root), weights)
    vocab_file, category_file = write_inputs(root)
    model_dir = root / "model"
    import_checkpoint(prefix, vocab_file, category_file, str(model_dir),
                      num_word_threshold=THRESHOLD, num_timesteps=sizes["timesteps"])
    return model_dir, weights, sizes


@pytest.fixture()
def sources(tmp_path):
    """A checkpoint of the original's sizes with its vocabulary and categories; no import."""
    weights = original_weights(CONFIGS["original"])
    vocab_file, category_file = write_inputs(tmp_path)
    return tmp_path, weights, vocab_file, category_file


def read_lines(path):
    return path.read_text(encoding="utf-8").splitlines()


# ------------------------------------------------------------ faithful conversion


def test_encoder_gives_the_original_ids(imported):
    model_dir, _, sizes = imported
    encoder = artifacts.token_encoder(str(model_dir), artifacts.read_config(str(model_dir)))
    ids = encoder(tf.constant(TEXTS)).numpy()
    assert ids.tolist() == [original_ids(text, sizes["timesteps"]) for text in TEXTS]


def test_imported_model_gives_the_original_logits(imported):
    model_dir, weights, _ = imported
    model, config, _ = artifacts.load_model(str(model_dir))
    ids = artifacts.token_encoder(str(model_dir), config)(tf.constant(TEXTS))
    logits = np.asarray(model(ids, training=False))
    np.testing.assert_allclose(logits, original_logits(weights, ids.numpy()), rtol=0, atol=1e-5)


def test_export_gives_the_original_probabilities(imported):
    model_dir, weights, sizes = imported
    serve = tf.saved_model.load(str(model_dir / "export")).signatures["serving_default"]
    outputs = serve(text=tf.constant(TEXTS))
    expected = softmax(original_logits(weights, [original_ids(t, sizes["timesteps"]) for t in TEXTS]))
    np.testing.assert_allclose(outputs["probabilities"].numpy(), expected, rtol=0, atol=1e-5)
    labels = [label.decode("utf-8") for label in outputs["label"].numpy()]
    assert labels == [CATEGORIES[i] for i in expected.argmax(axis=-1)]


def test_model_dir_is_laid_out_like_a_trained_one(imported):
    model_dir, _, sizes = imported
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["model"]["padding"] == "original"
    assert config["model"]["num_lstm_nodes"] == list(sizes["units"])
    assert (config["model"]["vocab_size"], config["model"]["num_classes"]) == (len(KEPT), len(CATEGORIES))
    assert config["encoder"] == dict(num_timesteps=sizes["timesteps"], padding="original",
                                     split="whitespace")
    assert (config["tokenizer"], config["user_dict"]) == ("jieba", None)
    assert config["vocabulary"]["size"] == len(KEPT)
    assert read_lines(model_dir / "tokens.txt") == KEPT
    assert read_lines(model_dir / "categories.txt") == CATEGORIES
    assert read_lines(model_dir / "vocab.txt") == [f"{w}\t{c}" for w, c in VOCAB]
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tokenizer"] == "jieba"
    assert manifest["imported_from"]["checkpoint"].endswith(f"model.ckpt-{GLOBAL_STEP}")
    assert (model_dir / "export" / "saved_model.pb").is_file()
    assert not (model_dir / "metrics.json").exists()


def test_checkpoint_in_best_keeps_the_global_step(imported):
    model_dir, _, _ = imported
    latest = tf.train.latest_checkpoint(str(model_dir / "best"))
    assert latest is not None
    assert int(tf.train.load_checkpoint(latest).get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE")) \
        == GLOBAL_STEP


# --------------------------------------------------------------- inputs it accepts


def imported_from(model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    return manifest["imported_from"]["checkpoint"]


def test_checkpoint_folder_means_its_latest_checkpoint(sources):
    root, weights, vocab_file, category_file = sources
    write_tf1_checkpoint(str(root), weights, global_step=5)
    prefix = write_tf1_checkpoint(str(root), weights, global_step=7)
    import_checkpoint(str(root), vocab_file, category_file, str(root / "model"), export=False)
    assert imported_from(root / "model") == prefix
    assert tf.train.latest_checkpoint(str(root / "model" / "best")).endswith("ckpt-7")


def test_checkpoint_given_as_its_index_file_means_its_prefix(sources):
    root, weights, vocab_file, category_file = sources
    prefix = write_tf1_checkpoint(str(root), weights)
    import_checkpoint(f"{prefix}.index", vocab_file, category_file, str(root / "model"),
                      export=False)
    assert imported_from(root / "model") == prefix


def test_reimport_replaces_an_earlier_import(sources):
    root, weights, vocab_file, category_file = sources
    prefix = write_tf1_checkpoint(str(root), weights)
    import_checkpoint(prefix, vocab_file, category_file, str(root / "model"), export=False)
    import_checkpoint(prefix, vocab_file, category_file, str(root / "model"), num_timesteps=20,
                      export=False)
    assert artifacts.read_config(str(root / "model"))["encoder"]["num_timesteps"] == 20


# ---------------------------------------------------------------- inputs it refuses


def refusal(sources, weights=None, **kwargs):
    """The UserError message of an import of `weights` (default: the fixture's)."""
    root, default, vocab_file, category_file = sources
    prefix = write_tf1_checkpoint(str(root), default if weights is None else weights)
    with pytest.raises(UserError) as error:
        import_checkpoint(prefix, vocab_file, category_file, str(root / "model"), export=False,
                          **kwargs)
    assert not (root / "model").exists()
    return str(error.value)


def test_missing_variables_are_named(sources):
    weights = dict(sources[1])
    del weights[fc_name("fc2", "bias")], weights[cell_name(1, "kernel")]
    message = refusal(sources, weights)
    assert f"missing {fc_name('fc2', 'bias')}" in message
    assert f"missing {cell_name(1, 'kernel')}" in message


def test_misshaped_dense_kernel_is_named_with_both_shapes(sources):
    weights = dict(sources[1])
    weights[fc_name("fc1", "kernel")] = np.zeros((33, 32), np.float32)
    message = refusal(sources, weights)
    assert f"{fc_name('fc1', 'kernel')} has shape [33, 32], expected [32, 32]" in message


def test_lstm_kernel_that_does_not_fit_the_layer_below_is_named(sources):
    weights = dict(sources[1])
    weights[cell_name(1, "kernel")] = np.zeros((40 + 32, 128), np.float32)
    message = refusal(sources, weights)
    assert f"{cell_name(1, 'kernel')} has shape [72, 128], expected [64, 128]" in message


def test_lstm_sizes_that_are_not_four_gates_are_named(sources):
    weights = dict(sources[1])
    weights[cell_name(0, "kernel")] = np.zeros((48, 126), np.float32)
    weights[cell_name(0, "bias")] = np.zeros((126,), np.float32)
    message = refusal(sources, weights)
    assert f"{cell_name(0, 'kernel')} has shape [48, 126]; its last dimension must be 4" in message
    assert f"{cell_name(0, 'bias')} has shape [126]" in message


def test_vocabulary_size_mismatch_points_at_the_threshold(sources):
    message = refusal(sources, num_word_threshold=5)
    kept_at_5 = sum(1 for _, count in VOCAB if count >= 5)
    assert f"has {len(KEPT)} rows" in message and f"keeps {kept_at_5} words" in message
    assert "--num_word_threshold" in message


def test_category_count_mismatch_is_refused(sources):
    weights = original_weights(CONFIGS["original"], num_classes=len(CATEGORIES) + 1)
    message = refusal(sources, weights)
    assert f"has {len(CATEGORIES) + 1} classes" in message and "--category_file" in message


def test_a_path_that_is_no_checkpoint_is_refused(sources):
    root, _, vocab_file, category_file = sources
    with pytest.raises(UserError, match="cannot read it as a TensorFlow checkpoint"):
        import_checkpoint(str(root / "nothing.ckpt"), vocab_file, category_file,
                          str(root / "model"), export=False)


def test_an_object_based_checkpoint_is_refused_as_such(sources):
    root, _, vocab_file, category_file = sources
    prefix = tf.train.Checkpoint(v=tf.Variable(1.0)).write(str(root / "tf2" / "ckpt"))
    with pytest.raises(UserError, match="holds none of the original graph's variables .* "
                                        "object-based"):
        import_checkpoint(prefix, vocab_file, category_file, str(root / "model"), export=False)


def test_a_folder_that_is_not_an_import_is_not_overwritten(sources):
    root, weights, vocab_file, category_file = sources
    prefix = write_tf1_checkpoint(str(root), weights)
    (root / "model").mkdir()
    (root / "model" / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UserError, match="already holds something other than an earlier import"):
        import_checkpoint(prefix, vocab_file, category_file, str(root / "model"), export=False)
    assert read_lines(root / "model" / "config.json") == ["{}"]


# ------------------------------------------------------------------ command line


@pytest.mark.slow
def test_cli_imports_and_exports(sources):
    root, weights, vocab_file, category_file = sources
    prefix = write_tf1_checkpoint(str(root), weights)
    result = run_cli("import_tf1", f"--checkpoint={prefix}", f"--vocab_file={vocab_file}",
                     f"--category_file={category_file}", f"--model_dir={root / 'model'}",
                     timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"model: {root / 'model'}" in result.stdout
    assert (root / "model" / "export" / "saved_model.pb").is_file()
    assert "--num_timesteps=50" in (root / "model" / "flags.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_refuses_a_missing_variable_without_traceback(sources):
    root, weights, vocab_file, category_file = sources
    weights = {k: v for k, v in weights.items() if k != fc_name("fc1", "bias")}
    prefix = write_tf1_checkpoint(str(root), weights)
    result = run_cli("import_tf1", f"--checkpoint={prefix}", f"--vocab_file={vocab_file}",
                     f"--category_file={category_file}", f"--model_dir={root / 'model'}",
                     timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"missing {fc_name('fc1', 'bias')}" in result.stderr
    assert not (root / "model").exists()
