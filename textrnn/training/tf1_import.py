"""A checkpoint of the original TF1 graph -> a textrnn model directory
(textrnn-import-tf1 is the command; `import_checkpoint` the call).

The result is a model directory like the ones textrnn-train writes (config,
tokens.txt, categories, a checkpoint in best/ and the SavedModel in export/),
so textrnn-export, textrnn-predict and textrnn-evaluate take it as it is.

The import is faithful, defects included (docs/original.md): the model is built with
padding="original" -- no mask, texts padded with the `<UNK>` id to exactly
--num_timesteps, the output read at the last padded step -- and tokens.txt
keeps the original's ids, `<UNK>` wherever the vocabulary file put it. So the
imported model, and its export, give the original's logits.

Weights are matched by the original graph's variable names (docs/original.md); the number of layers
and every size are read from the shapes. Adam's slots are ignored.
"""

import os
import re
import shutil

import numpy as np

import textrnn
from textrnn.text import vocab
from textrnn.training import artifacts
from textrnn.util import atomic
from textrnn.util.console import say
from textrnn.util.errors import UserError

EMBEDDING = "embedding/embedding"
GLOBAL_STEP = "global_step"
FORGET_BIAS = 1.0  # BasicLSTMCell's default, which the original kept
_CELL = re.compile(r"lstm_nn/rnn/multi_rnn_cell/cell_(\d+)/basic_lstm_cell/(kernel|bias)")
# Training state of the original that a classifier does not need.
_OPTIMIZER = re.compile(r".*/Adam(_1)?|beta[12]_power|global_step")
_FILE_SUFFIX = re.compile(r"\.(index|meta|data-\d+-of-\d+)$")
# Present in every object-based (TF2, Keras, textrnn's own) checkpoint, never in a Saver's.
_OBJECT_GRAPH = "_CHECKPOINTABLE_OBJECT_GRAPH"


def cell_name(layer, part):
    return f"lstm_nn/rnn/multi_rnn_cell/cell_{layer}/basic_lstm_cell/{part}"


def fc_name(layer, part):
    return f"fc/{layer}/{part}"


def tf1_to_keras_lstm(kernel, bias, input_dim, forget_bias=FORGET_BIAS):
    """TF1 BasicLSTMCell weights -> Keras LSTM [kernel, recurrent_kernel, bias].

    Split rows into input [:input_dim] and recurrent [input_dim:] parts,
    reorder gate column blocks i, j, f, o -> i, f, c(=j), o, and fold the
    run-time forget bias into the f block of the bias.
    """
    def reorder(m):
        i, j, f, o = np.split(m, 4, axis=-1)
        return np.concatenate([i, f, j, o], axis=-1)

    units = bias.shape[0] // 4
    keras_bias = reorder(bias).copy()
    keras_bias[units:2 * units] += forget_bias
    return [reorder(kernel[:input_dim]), reorder(kernel[input_dim:]), keras_bias]


def _resolve(checkpoint):
    """The checkpoint prefix --checkpoint means: as given, the latest one of a folder,
    or the prefix of one of its files (model.ckpt-100.index, say)."""
    import tensorflow as tf
    if os.path.isdir(checkpoint):
        latest = tf.train.latest_checkpoint(checkpoint)
        if latest is None:
            raise UserError(f"--checkpoint={checkpoint}: a folder without a 'checkpoint' state "
                            "file; give the checkpoint prefix, e.g. model.ckpt-10000")
        return latest
    prefix = _FILE_SUFFIX.sub("", checkpoint)
    return prefix if prefix != checkpoint and os.path.isfile(f"{prefix}.index") else checkpoint


def _open_checkpoint(checkpoint, prefix):
    """A CheckpointReader of `prefix`, or a UserError about --checkpoint."""
    import tensorflow as tf
    try:
        return tf.train.load_checkpoint(prefix)
    except (ValueError, tf.errors.OpError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"--checkpoint={checkpoint}: cannot read it as a TensorFlow checkpoint "
                        f"({reason}); give the prefix tf.train.Saver wrote, e.g. "
                        "model.ckpt-10000, or its folder") from None


def _plus(a, b):
    return None if a is None or b is None else a + b


def _times4(a):
    return None if a is None else 4 * a


def _expected_shapes(shapes, num_layers):
    """(name -> expected shape, name -> problem) for every variable the model needs.

    Each layer's width is read from its kernel's columns (falling back to its
    bias), and the next layer's input size must match it. None in an expected
    shape is a size nothing else pins down (the vocabulary size, say).
    """
    def last_dim(name, rank, multiple=1):
        shape = shapes.get(name)
        if shape is not None and len(shape) == rank and shape[-1] % multiple == 0:
            return shape[-1] // multiple
        return None

    expected, problems = {EMBEDDING: [None, None]}, {}
    width = last_dim(EMBEDDING, 2)
    for i in range(num_layers):
        kernel, bias = cell_name(i, "kernel"), cell_name(i, "bias")
        units = last_dim(kernel, 2, 4) or last_dim(bias, 1, 4)
        if units is None:
            for name in (kernel, bias):
                if name in shapes:
                    problems[name] = (f"has shape {list(shapes[name])}; its last dimension must "
                                      "be 4 * units (gates i, j, f, o)")
        expected[kernel] = [_plus(width, units), _times4(units)]
        expected[bias] = [_times4(units)]
        width = units
    for layer in ("fc1", "fc2"):
        kernel, bias = fc_name(layer, "kernel"), fc_name(layer, "bias")
        units = last_dim(kernel, 2) or last_dim(bias, 1)
        expected[kernel], expected[bias] = [width, units], [units]
        width = units
    return expected, problems


def _fits(shape, expected):
    return len(shape) == len(expected) and all(e is None or s == e
                                                for s, e in zip(shape, expected))


def _describe(shape):
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _check_variables(checkpoint, shapes):
    """The number of LSTM layers; a UserError naming every missing or mis-shaped variable."""
    layers = {int(m.group(1)) for m in map(_CELL.fullmatch, shapes) if m}
    num_layers = max(layers) + 1 if layers else 1
    expected, problems = _expected_shapes(shapes, num_layers)
    missing = [name for name in expected if name not in shapes]
    for name, shape in expected.items():
        if name in shapes and name not in problems and not _fits(shapes[name], shape):
            problems[name] = f"has shape {list(shapes[name])}, expected {_describe(shape)}"
    if not missing and not problems:
        return num_layers
    if len(missing) == len(expected):
        kind = ("an object-based (TF2 / Keras) checkpoint" if _OBJECT_GRAPH in shapes
                else "a checkpoint of another graph")
        raise UserError(f"--checkpoint={checkpoint} holds none of the original graph's "
                        f"variables ({EMBEDDING}, {cell_name(0, 'kernel')}, ...): it "
                        f"is {kind}. Give a tf.train.Saver checkpoint of the original.")
    lines = [f"--checkpoint={checkpoint} does not hold the original graph's variables:"]
    lines += [f"  missing {name}" for name in missing]
    lines += [f"  {name} {problem}" for name, problem in problems.items()]
    others = sorted(n for n in shapes if n not in expected and not _OPTIMIZER.fullmatch(n))
    if missing and others:
        lines.append(f"  (it holds instead: {', '.join(others[:10])}"
                     f"{', ...' if len(others) > 10 else ''})")
    raise UserError("\n".join(lines))


def read_checkpoint(checkpoint):
    """The original's weights as numpy arrays, checked against each other.

    Returns dict(embedding, cells=[(kernel, bias), ...], fc1=(kernel, bias),
    fc2=(kernel, bias), global_step, prefix).
    """
    prefix = _resolve(checkpoint)
    reader = _open_checkpoint(checkpoint, prefix)
    shapes = {name: list(shape) for name, shape in reader.get_variable_to_shape_map().items()}
    num_layers = _check_variables(checkpoint, shapes)

    def pair(kernel, bias):
        return reader.get_tensor(kernel), reader.get_tensor(bias)

    return dict(
        embedding=reader.get_tensor(EMBEDDING),
        cells=[pair(cell_name(i, "kernel"), cell_name(i, "bias")) for i in range(num_layers)],
        fc1=pair(fc_name("fc1", "kernel"), fc_name("fc1", "bias")),
        fc2=pair(fc_name("fc2", "kernel"), fc_name("fc2", "bias")),
        global_step=int(reader.get_tensor(GLOBAL_STEP)) if GLOBAL_STEP in shapes else 0,
        prefix=os.path.abspath(prefix),
    )


def model_config(weights):
    """The ModelConfig the weights imply, in the original's faithful mode."""
    from textrnn.training.recurrent.model import ModelConfig
    vocab_size, embedding_size = weights["embedding"].shape
    return ModelConfig(
        vocab_size=int(vocab_size), num_classes=int(weights["fc2"][1].shape[0]),
        num_embedding_size=int(embedding_size), cell="lstm",
        num_lstm_nodes=tuple(int(bias.shape[0]) // 4 for _, bias in weights["cells"]),
        num_fc_nodes=int(weights["fc1"][1].shape[0]), dropout=0.2,  # the original's keep_prob 0.8
        initializer="original", padding="original")


def build_imported_model(weights):
    """The Keras model with the converted weights."""
    from textrnn.training.recurrent.model import build_model
    config = model_config(weights)
    model = build_model(config)
    model.get_layer("embedding").set_weights([weights["embedding"]])
    input_dim = config.num_embedding_size
    for i, (kernel, bias) in enumerate(weights["cells"]):
        model.get_layer(f"lstm_{i}").set_weights(tf1_to_keras_lstm(kernel, bias, input_dim))
        input_dim = config.num_lstm_nodes[i]
    model.get_layer("fc1").set_weights(list(weights["fc1"]))
    model.get_layer("fc2").set_weights(list(weights["fc2"]))
    return model, config


# --- the model directory ------------------------------------------------------------

def _check_sizes(weights, tokens, categories, vocab_file, category_file, num_word_threshold):
    """The checkpoint must have been trained on this vocabulary and these categories."""
    rows = weights["embedding"].shape[0]
    if rows != len(tokens):
        raise UserError(
            f"{EMBEDDING} has {rows} rows but --vocab_file={vocab_file} keeps {len(tokens)} "
            f"words at --num_word_threshold={num_word_threshold}; check --num_word_threshold "
            "(it must be the original's) and that --vocab_file is the one it trained with")
    classes = weights["fc2"][1].shape[0]
    if classes != len(categories):
        raise UserError(
            f"{fc_name('fc2', 'kernel')} has {classes} classes but --category_file="
            f"{category_file} lists {len(categories)} categories; check --category_file")


def _check_target(model_dir):
    """Refuse to replace anything but an empty folder or an earlier import."""
    if not os.path.exists(model_dir):
        return
    if not os.path.isdir(model_dir):
        raise UserError(f"--model_dir={model_dir} is a file")
    if not os.listdir(model_dir):
        return
    manifest = os.path.join(model_dir, vocab.MANIFEST_FILE)
    if not (os.path.isfile(manifest) and "imported_from" in artifacts.read_json(manifest)):
        raise UserError(f"--model_dir={model_dir} already holds something other than an "
                        "earlier import; give an empty or new folder")


def _save_checkpoint(model, global_step, directory):
    """best/ as textrnn-train writes it: model and step, with a `checkpoint` state file
    so that tf.train.latest_checkpoint (and so artifacts.load_model) finds it."""
    import tensorflow as tf
    step = tf.Variable(global_step, dtype=tf.int64, trainable=False, name="global_step")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model, step=step),
                                         directory, max_to_keep=1, step_counter=step)
    return manager.save(checkpoint_number=global_step)


def _write_model_dir(out, model, config, tokens, categories, weights, sources, settings):
    tokens.write_tokens(artifacts.path(out, vocab.TOKENS_FILE))
    # Written from the parsed labels, not copied: the in-graph label table
    # takes line number == class id, so stray blank lines must not shift it.
    vocab.write_categories(artifacts.path(out, vocab.CATEGORIES_FILE), categories.labels)
    shutil.copyfile(sources["vocab_file"], artifacts.path(out, vocab.VOCAB_FILE))
    artifacts.write_json(artifacts.path(out, artifacts.CONFIG_FILE), artifacts.config_record(
        model=config.to_dict(),
        encoder=dict(num_timesteps=settings["num_timesteps"], padding="original",
                     split="whitespace"),
        # The original read words segmented by jieba (its default: HMM on),
        # without a user dictionary.
        tokenizer="jieba", user_dict=None, jieba_hmm=True,
        vocabulary=dict(num_word_threshold=settings["num_word_threshold"], max_vocab_size=0,
                        size=len(tokens)),
        train=dict(imported_from_tf1=True, **sources, **settings,
                   global_step=weights["global_step"])))
    artifacts.write_json(artifacts.path(out, vocab.MANIFEST_FILE), dict(
        textrnn_version=textrnn.__version__, tokenizer="jieba", user_dict=None,
        user_dict_sha256=None, num_classes=len(categories),
        imported_from=dict(**sources, global_step=weights["global_step"]),
        note="imported by textrnn-import-tf1 from a checkpoint of the original TF1 graph; "
             "faithful mode: <UNK> padding to num_timesteps, output at the last padded step"))
    _save_checkpoint(model, weights["global_step"], artifacts.path(out, artifacts.BEST_DIR))


def import_checkpoint(checkpoint, vocab_file, category_file, model_dir, num_word_threshold=10,
                      num_timesteps=50, export=True):
    """Convert a checkpoint of the original graph into model_dir; returns the ModelConfig.

    Everything is checked before anything is written; the directory is built
    beside model_dir and renamed into place, so a failure leaves no half a
    model. Then the SavedModel is exported to model_dir/export.
    """
    if num_timesteps < 1 or num_word_threshold < 0:
        raise UserError("--num_timesteps must be at least 1 and --num_word_threshold must not "
                        "be negative")
    model_dir = os.path.abspath(model_dir)
    _check_target(model_dir)
    weights = read_checkpoint(checkpoint)
    tokens = vocab.Vocabulary.load(vocab_file, num_word_threshold, reserve_pad=False)
    categories = vocab.Categories.load(category_file)
    _check_sizes(weights, tokens, categories, vocab_file, category_file, num_word_threshold)
    model, config = build_imported_model(weights)

    sources = dict(checkpoint=weights["prefix"], vocab_file=os.path.abspath(vocab_file),
                   category_file=os.path.abspath(category_file))
    settings = dict(num_word_threshold=num_word_threshold, num_timesteps=num_timesteps)
    with atomic.replacing_dir(model_dir) as tmp:
        _write_model_dir(tmp, model, config, tokens, categories, weights, sources, settings)
    say(f"imported {weights['prefix']} (step {weights['global_step']}): {len(tokens)} words, "
        f"LSTM {list(config.num_lstm_nodes)}, {len(categories)} classes -> {model_dir}")
    if export:
        from textrnn.training.export import export_model
        export_model(model_dir)
    return config
