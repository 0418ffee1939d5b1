"""The model directory: what a training run leaves behind and how to read it.

    model_dir/
      vocab.txt categories.txt manifest.json   copied from the prepared data
                        (their names: text/vocab.py, which prepare shares)
      tokens.txt        the kept vocabulary, line number == id (lookup table source);
                        with pretrained vectors, the file's added tokens at the end
      config.json       model shape + encoding (what a model needs to be rebuilt)
      flags.txt         the flags of the run, usable as --flagfile
      recipe.flags      --recipe=auto's choices, usable as --flagfile
      ckpt/             latest checkpoints (model, optimizer, step, data position)
      best/             the checkpoint with the best validation accuracy (micro-F1
                        for a multi-label model)
      thresholds.json   a multi-label model's thresholds, chosen on val
      calibration.json  a single-label model's temperature and val's calibrated
                        scores, from which export serves prediction sets and
                        abstaining at any level (training/calibration.py)
      logs/train logs/eval   TensorBoard event files
      metrics.json      final numbers
      pretrained_chars/ with --pretrained_embeddings and the wide path's vectors: the
                        file's single-character rows, read in the recurrent model's
                        pass for the wide path; gone once the wide path has them
      wide/             the wide path (--wide): wide.json, its n-gram table,
                        features.json, checkpoint, jieba trie (wide/mixture.py)
      export/           the SavedModel (raw text in, labels out)
      classifier.json   TextClassifier's record: the labels as given to fit (strings
                        or numbers), the settings used and the metrics

Training writes it; export, evaluate, predict and the TF1 importer read it.
Every name under MODEL_DIR is defined here.
"""

import os

from textrnn.text import vocab
from textrnn.util.errors import UserError
from textrnn.util import jsonfile
from textrnn.util import saved_model

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
FLAGS_FILE = "flags.txt"
CKPT_DIR = "ckpt"
BEST_DIR = "best"
LOGS_DIR = "logs"
EXPORT_DIR = saved_model.EXPORT_DIR
RECIPE_FILE = "recipe.flags"
WIDE_DIR = "wide"
PRETRAINED_CHARS_DIR = "pretrained_chars"
WIDE_INFO_FILE = "wide.json"
THRESHOLDS_FILE = "thresholds.json"
CALIBRATION_FILE = "calibration.json"
CLASSIFIER_FILE = "classifier.json"


read_json, write_json = jsonfile.read, jsonfile.write  # the model directory's JSON files


def path(model_dir, name):
    return os.path.join(model_dir, name)


def config_record(model, encoder, tokenizer, user_dict, jieba_hmm, vocabulary, train,
                  label_separator=None):
    """config.json's content: the one schema training and the TF1 importer write.

    model: ModelConfig.to_dict(); encoder: num_timesteps, padding, split;
    tokenizer, user_dict, jieba_hmm: how text became tokens; vocabulary: its
    threshold, cap, size (and `pretrained`, the vectors' record); train: the
    run's settings; label_separator: what separates a text's labels in a multi-label
    model (None: one label a text).
    """
    return dict(model=model, encoder=encoder, tokenizer=tokenizer, user_dict=user_dict,
                jieba_hmm=jieba_hmm, vocabulary=vocabulary, train=train,
                labels=dict(multi_label=label_separator is not None,
                            separator=label_separator))


def label_separator(config):
    """What separates a text's labels in a multi-label model's config; None: single-label
    (also for model directories written before multi-label models existed)."""
    labels = config.get("labels") or {}
    return labels.get("separator") if labels.get("multi_label") else None


def read_config(model_dir):
    """config.json of a model directory, with a clear error if it is not one."""
    if not os.path.isfile(path(model_dir, CONFIG_FILE)):
        raise UserError(f"{model_dir}: not a textrnn model directory (no {CONFIG_FILE}); "
                        "train one with textrnn-train")
    return read_json(path(model_dir, CONFIG_FILE))


def model_config(config):
    from textrnn.training.recurrent.model import ModelConfig
    return ModelConfig.from_dict(config["model"])


def token_encoder(model_dir, config, segmenter=None):
    """The model's TokenEncoder; word models cut raw text with `segmenter` when given."""
    from textrnn.features.encoding import TokenEncoder
    enc = config["encoder"]
    tokens = vocab.Vocabulary.from_tokens_file(path(model_dir, vocab.TOKENS_FILE))
    return TokenEncoder(path(model_dir, vocab.TOKENS_FILE), tokens.unk_id, enc["num_timesteps"],
                        split=enc["split"], padding=enc["padding"],
                        segmenter=segmenter if enc["split"] == "whitespace" else None)


def label_encoder(model_dir, config=None):
    """The model's label encoder: class ids, or 0/1 rows for a multi-label model."""
    from textrnn.features.encoding import LabelEncoder, MultiLabelEncoder
    separator = label_separator(config or read_config(model_dir))
    categories = path(model_dir, vocab.CATEGORIES_FILE)
    if separator is None:
        return LabelEncoder(categories)
    return MultiLabelEncoder(categories, separator)


def load_model(model_dir, which=BEST_DIR):
    """Rebuild the Keras model from config.json and restore a checkpoint.

    `which` is BEST_DIR (default: the best validation checkpoint) or CKPT_DIR.
    """
    import tensorflow as tf
    from textrnn.training.recurrent.model import build_model
    config = read_config(model_dir)
    model = build_model(model_config(config))
    checkpoint_path = tf.train.latest_checkpoint(path(model_dir, which))
    if checkpoint_path is None and which == BEST_DIR:
        checkpoint_path = tf.train.latest_checkpoint(path(model_dir, CKPT_DIR))
    if checkpoint_path is None:
        raise UserError(f"{model_dir}: no checkpoint in {which}/ or {CKPT_DIR}/")
    tf.train.Checkpoint(model=model).read(checkpoint_path).expect_partial()
    return model, config, checkpoint_path
