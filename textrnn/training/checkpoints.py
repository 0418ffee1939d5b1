"""The model directory of a training run: creating it, resuming into it, checkpoints.

A run writes its configuration, vocabulary and categories before the first
step; running the same command again finds them, refuses a change of model
shape, and restores the latest checkpoint (model, optimizer, step and the
data position). See artifacts.py for the folder's layout.
"""

import dataclasses
import json
import math
import os
import shutil

from textrnn.text import prepared
from textrnn.text import tokenize
from textrnn.text import vocab
from textrnn.training import artifacts
from textrnn.training.config import SHAPE_FIELDS
from textrnn.util import settings
from textrnn.util.errors import UserError


def run_config_of(cfg, manifest, tokens):
    """config.json's content for a run of `cfg` on a prepared folder (its prepared.Manifest)
    with this vocabulary."""
    from textrnn.training.recurrent.model import ModelConfig
    model = ModelConfig(
        vocab_size=len(tokens), num_classes=manifest.num_classes,
        num_embedding_size=cfg.num_embedding_size, cell=cfg.cell,
        num_lstm_nodes=cfg.num_lstm_nodes, bidirectional=cfg.bidirectional,
        num_fc_nodes=cfg.num_fc_nodes, dropout=round(1.0 - cfg.keep_prob, 6),
        initializer=cfg.initializer, padding=cfg.padding, pooling=cfg.pooling,
        embedding_dropout=cfg.embedding_dropout)
    return artifacts.config_record(
        model=model.to_dict(),
        encoder=dict(num_timesteps=cfg.num_timesteps, padding=cfg.padding,
                     split=tokenize.ENCODER_SPLIT.get(manifest.tokenizer, "whitespace")),
        tokenizer=manifest.tokenizer, user_dict=manifest.record.get("user_dict"),
        jieba_hmm=tokenize.uses_hmm(manifest.record),
        vocabulary=dict(num_word_threshold=cfg.num_word_threshold,
                        max_vocab_size=cfg.max_vocab_size, size=len(tokens)),
        train=dataclasses.asdict(cfg),
        label_separator=manifest.label_separator)


def check_resumable(old, new, model_dir):
    """Refuse to resume a run whose model or input shape would differ."""
    new = json.loads(json.dumps(new))  # compare as stored: tuples become lists
    changed = [f"--{k}: {old['train'].get(k)!r} -> {new['train'].get(k)!r}"
               for k in SHAPE_FIELDS if old["train"].get(k) != new["train"].get(k)]
    if old["model"] != new["model"] and not changed:
        changed.append("the vocabulary or categories of --data_dir changed")
    if changed:
        raise UserError(f"{model_dir} holds a run with a different model shape; it cannot be "
                        f"resumed with these flags ({'; '.join(changed)}). Use another "
                        "--model_dir, or the old flags (saved in its flags.txt).")


def prepare_model_dir(cfg, out_dir):
    """Create or check out_dir (the model dir, or a worker's scratch copy).

    Returns (run config, initial embedding rows or None): with
    --pretrained_embeddings the vocabulary gains the file's tokens train lacks and
    the rows come from the file. The settings are written to flags.txt, so the run
    can be repeated with --flagfile.
    """
    manifest = prepared.read(cfg.data_dir)
    tokens = vocab.Vocabulary.load(os.path.join(cfg.data_dir, vocab.VOCAB_FILE),
                                   cfg.num_word_threshold, cfg.max_vocab_size or None)
    embedding, pretrained = None, None
    if cfg.pretrained_embeddings:
        tokens, embedding, pretrained = _pretrained(cfg, manifest.tokenizer, tokens, out_dir)
    run_config = run_config_of(cfg, manifest, tokens)
    if pretrained:
        run_config["vocabulary"]["pretrained"] = pretrained
    config_path = artifacts.path(out_dir, artifacts.CONFIG_FILE)
    if os.path.isfile(config_path):
        check_resumable(artifacts.read_json(config_path), run_config, out_dir)
        old_tokens = vocab.Vocabulary.from_tokens_file(artifacts.path(out_dir, vocab.TOKENS_FILE))
        if old_tokens.tokens != tokens.tokens:
            raise UserError(f"{out_dir} was trained on another vocabulary than "
                            f"{cfg.data_dir}; use another --model_dir")
    os.makedirs(out_dir, exist_ok=True)
    for name in (vocab.VOCAB_FILE, vocab.CATEGORIES_FILE, vocab.MANIFEST_FILE):
        shutil.copyfile(os.path.join(cfg.data_dir, name), artifacts.path(out_dir, name))
    tokens.write_tokens(artifacts.path(out_dir, vocab.TOKENS_FILE))
    artifacts.write_json(config_path, run_config)
    with open(artifacts.path(out_dir, artifacts.FLAGS_FILE), "w", encoding="utf-8") as out:
        out.write(settings.flagfile(cfg))
    return run_config, embedding


def _pretrained(cfg, tokenizer, tokens, out_dir):
    """(extended vocabulary, (initial embedding rows, ids of the rows from the file),
    record for config.json)."""
    import time
    from textrnn.training.recurrent.model import embedding_std
    from textrnn.text import vectors
    start = time.monotonic()
    requests = [vectors.Request(tokens.tokens, cfg.pretrained_max_tokens,
                                lambda token: tokenize.can_produce(tokenizer, token))]
    if cfg.wide and cfg.wide_vectors:
        # every single character's row, for the wide path's mean vectors, from this
        # same pass: the file may be gigabytes
        requests.append(vectors.Request((), math.inf, vectors.is_character))
    found, *characters = vectors.load_many(cfg.pretrained_embeddings, requests)
    if characters:
        vectors.save_copy(characters[0], artifacts.path(out_dir, artifacts.PRETRAINED_CHARS_DIR))
    kept = set(tokens.tokens)
    added = [t for t in found.tokens if t not in kept]
    tokens = tokens.extended(added)
    parts = (lambda pair: list(pair)) if tokenizer == "bigram" else None
    file_std = float(found.matrix.std()) if found.matrix.size else 0.0
    factor = embedding_std(cfg.initializer) / file_std if cfg.rescale_vectors and file_std else 1.0
    embedding, covered = vectors.initial_embedding(tokens.tokens, found, tokens.pad_id,
                                                   cfg.seed, parts, factor)
    record = dict(file=os.path.abspath(cfg.pretrained_embeddings), dim=found.dim,
                  rows_read=found.rows_read, added=len(added), with_vector=len(covered),
                  file_std=round(file_std, 4), scaled_by=round(factor, 4),
                  seconds=round(time.monotonic() - start, 1))
    return tokens, (embedding, covered), record


def make_checkpoints(out_dir, state, model, step):
    """(checkpoint, latest manager, best-val manager) of a run: `state` (the
    optimizers, counters and data position) with the model in the resumable
    checkpoints, the model alone in the best-val one."""
    import tensorflow as tf
    checkpoint = tf.train.Checkpoint(model=model, **state)
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(out_dir, artifacts.CKPT_DIR), max_to_keep=2,
        step_counter=step)
    best = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model, step=step),
        os.path.join(out_dir, artifacts.BEST_DIR), max_to_keep=1, step_counter=step)
    return checkpoint, manager, best
