"""Shared fixtures: paths, the real-data skip, CLI runner, prepared demo data."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data(name):
    """Path to ../shared/data/<name>, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data {path} is absent (it lives beside the repository, never in it)")
    return path


def run_cli(module, *args, stdin=None, timeout=600, env=None):
    """Run `python -m textrnn.<module> args...`; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", f"textrnn.{module}", *map(str, args)],
        input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, **(env or {})})


def reference_ids(vocab, tokens):
    """Token ids computed in plain Python: the oracle the in-graph lookup is checked against."""
    index = {token: i for i, token in enumerate(vocab.tokens)}
    return [index.get(token, vocab.unk_id) for token in tokens]


def demo_paths():
    return {split: str(DEMO / f"{split}.txt") for split in ("train", "val", "test")}


@pytest.fixture(scope="session")
def demo_prepared(tmp_path_factory):
    """data/demo prepared with jieba (the default tokenizer)."""
    from textrnn.prepare import prepare
    out = tmp_path_factory.mktemp("prepared") / "demo"
    prepare(demo_paths(), out, tokenizer="jieba", num_workers=1, progress_every=0)
    return out


@pytest.fixture(scope="session")
def demo_prepared_char(tmp_path_factory):
    """data/demo prepared with the char tokenizer."""
    from textrnn.prepare import prepare
    out = tmp_path_factory.mktemp("prepared") / "demo_char"
    prepare(demo_paths(), out, tokenizer="char", num_workers=1, progress_every=0)
    return out


TINY_MODEL = dict(num_word_threshold=2, num_timesteps=60, num_embedding_size=32,
                  num_lstm_nodes=(32,), num_fc_nodes=32, learning_rate=0.005, batch_size=50,
                  log_every_steps=50, eval_every_steps=100, checkpoint_every_steps=100)


@pytest.fixture(scope="session")
def trained_model(demo_prepared, tmp_path_factory):
    """A small model trained on the demo corpus for 200 steps, exported."""
    from textrnn.train import TrainConfig, train
    model_dir = tmp_path_factory.mktemp("models") / "demo"
    metrics = train(TrainConfig(data_dir=str(demo_prepared), model_dir=str(model_dir),
                                num_train_steps=200, **TINY_MODEL))
    return model_dir, metrics


@pytest.fixture(scope="session")
def hmm_model(tmp_path_factory):
    """A tiny model of words cut with jieba's HMM (its SavedModel reads segmented text)."""
    from textrnn.prepare import prepare
    from textrnn.train import TrainConfig, train
    root = tmp_path_factory.mktemp("hmm")
    prepare(demo_paths(), root / "data", tokenizer="jieba", jieba_hmm=True, num_workers=1,
            progress_every=0)
    train(TrainConfig(data_dir=str(root / "data"), model_dir=str(root / "model"),
                      num_train_steps=10, **{**TINY_MODEL, "eval_every_steps": 10}))
    return root
