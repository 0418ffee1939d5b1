"""Shared fixtures: paths, the real-data skip, CLI runner, prepared demo data."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import cli_client
from textrnn.util import startup

# The tests run the library in this process the way the commands run it: with the
# commands' TensorFlow defaults (quiet start-up, oneDNN off), set before it loads.
startup.command_environment()
# With several test workers (make test), each one's TensorFlow (and every process it
# starts) runs ops on one thread: the workers already fill the cores, and thread pools
# of several processes contending for them stall each other.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

# The unit tier (`make test-unit`, `pytest -m unit`): tests that train no model and start
# no process. A test belongs to it unless it asks for a fixture that trains or prepares,
# or its own code runs a command, a training or a service; the guards below fail a unit
# test that does so anyway, so the tier keeps its promise.
_HEAVY_FIXTURES = {"trained_model", "demo_prepared", "demo_prepared_char", "hmm_model",
                   "multilabel_model", "fitted", "single_run", "char_model", "bigram_model",
                   "ensemble", "imported", "wide_deep", "start", "service", "served",
                   "in_process"}
_HEAVY_CODE = re.compile(r"run_cli|run_python|run_make_train|make_train_commands|subprocess|"
                         r"Popen|\btrain\(|\.fit\(|\bprepare\(|serve|export_model|Trainer\(|"
                         r"run_quick|train_wide|add_wide_path|multiprocessing|cli_|tracked_files")


def pytest_collection_modifyitems(config, items):
    import inspect
    for item in items:
        function = getattr(item, "function", None)
        if function is None or _HEAVY_FIXTURES & set(item.fixturenames):
            continue
        if not _HEAVY_CODE.search(inspect.getsource(function)):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _unit_tier_guard(request, monkeypatch):
    """In a unit test, starting a process or training a model fails the test."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return

    def refuse(what):
        def refused(*args, **kwargs):
            raise AssertionError(f"a unit test {what}: it belongs to the end-to-end tier "
                                 "(see tests/conftest.py)")
        return refused
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process"))
    monkeypatch.setattr(cli_client, "run", refuse("ran a command"))
    monkeypatch.setattr(cli_client, "start", refuse("started a command"))
    if "textrnn.training.trainer" in sys.modules:
        monkeypatch.setattr(sys.modules["textrnn.training.trainer"].Trainer, "__init__",
                            refuse("trained a model"))
    yield

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
    """Run `python -m textrnn.<module> args...` as a new process; returns the
    CompletedProcess. Unless the test sets environment variables, it is forked from a
    process that has TensorFlow imported (see run_python); with them, it gets a fresh
    interpreter, since TensorFlow may read them while it is imported."""
    if env:
        return subprocess.run([sys.executable, "-m", f"textrnn.{module}", *map(str, args)],
                              input=stdin, capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env={**os.environ, **env})
    return run_python(f"textrnn.{module}", *args, stdin=stdin, timeout=timeout)


def run_python(target, *args, stdin=None, timeout=600):
    """`python target args...` (a .py file) or `python -m target args...` (a module), run
    from the repository root as a new process forked from one that has TensorFlow
    imported (tests/cli_server.py): the process is the command's own, without paying
    for the import. Returns the CompletedProcess, text output captured."""
    return cli_client.run([str(target), *map(str, args)], stdin=stdin, timeout=timeout,
                          cwd=ROOT)


def make_train_commands(*make_args):
    """The textrnn commands `make train MAKE_ARGS` runs, read from `make -n` (which runs
    nothing), as (module, arguments): a test runs them with the interpreter under test."""
    import shlex
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    listed = subprocess.run(["make", "-n", "--no-print-directory", "train", *make_args],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MAKEFLAGS": ""})
    assert listed.returncode == 0, listed.stderr
    commands = []
    for line in listed.stdout.replace("\\\n", " ").splitlines():
        words = shlex.split(line)
        if words and words[0].startswith(".venv/bin/textrnn-"):
            commands.append((words[0].split("textrnn-", 1)[1].replace("-", "_"), words[1:]))
    assert commands, listed.stdout
    return commands


def run_make_train(*make_args):
    """Run what `make train MAKE_ARGS` runs, command by command, stopping at a failure;
    returns (stdout, stderr, return code) of them together."""
    out, err = "", ""
    for module, args in make_train_commands(*make_args):
        done = run_cli(module, *args)
        out, err = out + done.stdout, err + done.stderr
        if done.returncode:
            return out, err, done.returncode
    return out, err, 0


def reference_ids(vocab, tokens):
    """Token ids computed in plain Python: the oracle the in-graph lookup is checked against."""
    index = {token: i for i, token in enumerate(vocab.tokens)}
    return [index.get(token, vocab.unk_id) for token in tokens]


def demo_paths():
    return {split: str(DEMO / f"{split}.txt") for split in ("train", "val", "test")}


def built_once(tmp_path_factory, name, build):
    """A folder that `build(folder)` fills, built once per test run: the first test
    worker to ask builds it under a lock, in the run's shared temporary folder; each
    worker gets a copy of its own, so no test sees another's changes."""
    import fcntl
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    source = shared / f"built-{name}"
    with open(shared / f"built-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (source / ".complete").exists():
            shutil.rmtree(source, ignore_errors=True)
            source.mkdir()
            build(source)
            (source / ".complete").touch()
    copy = tmp_path_factory.mktemp(name) / name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".complete"))
    return copy


@pytest.fixture(scope="session")
def demo_prepared(tmp_path_factory):
    """data/demo prepared with jieba (the default tokenizer)."""
    from textrnn.text.prepare import prepare
    return built_once(tmp_path_factory, "demo_prepared", lambda out: prepare(
        demo_paths(), out, tokenizer="jieba", num_workers=1, progress_every=0))


@pytest.fixture(scope="session")
def demo_prepared_char(tmp_path_factory):
    """data/demo prepared with the char tokenizer."""
    from textrnn.text.prepare import prepare
    return built_once(tmp_path_factory, "demo_prepared_char", lambda out: prepare(
        demo_paths(), out, tokenizer="char", num_workers=1, progress_every=0))


TINY_MODEL = dict(num_word_threshold=2, num_timesteps=60, num_embedding_size=32,
                  num_lstm_nodes=(32,), num_fc_nodes=32, learning_rate=0.005, batch_size=50,
                  log_every_steps=50, eval_every_steps=100, checkpoint_every_steps=100)


@pytest.fixture(scope="session")
def trained_model(demo_prepared, tmp_path_factory):
    """A small model trained on the demo corpus for 200 steps, exported (built once per
    run, a copy for each test worker)."""
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train

    def build(model_dir):
        train(TrainConfig(data_dir=str(demo_prepared), model_dir=str(model_dir),
                          num_train_steps=200, **TINY_MODEL))
    model_dir = built_once(tmp_path_factory, "trained_model", build)
    return model_dir, json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def hmm_model(tmp_path_factory):
    """A tiny model of words cut with jieba's HMM (its SavedModel reads segmented text)."""
    from textrnn.text.prepare import prepare
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train

    def build(root):
        prepare(demo_paths(), root / "data", tokenizer="jieba", jieba_hmm=True,
                num_workers=1, progress_every=0)
        train(TrainConfig(data_dir=str(root / "data"), model_dir=str(root / "model"),
                          num_train_steps=10, **{**TINY_MODEL, "eval_every_steps": 10}))
    return built_once(tmp_path_factory, "hmm_model", build)


# Several labels a text: each label has a cue character; a text holds the cues of its
# labels among filler characters, so a tiny model learns them in a few hundred steps.
MULTI_LABEL_CUES = {"猫": "cat", "狗": "dog", "鱼": "fish", "鸟": "bird"}
_FILLER = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"


def write_multilabel_corpus(root, counts=(600, 120, 120), seed=0):
    """train/val/test.txt of `label1|label2<TAB>text` lines under root; returns root."""
    import random
    rng = random.Random(seed)
    cues = list(MULTI_LABEL_CUES)
    filler = [c for c in _FILLER if c not in MULTI_LABEL_CUES]
    root.mkdir(parents=True, exist_ok=True)
    for split, count in zip(("train", "val", "test"), counts):
        lines = []
        for _ in range(count):
            chosen = rng.sample(cues, rng.choice((1, 1, 2, 2, 3)))
            text = [rng.choice(filler) for _ in range(rng.randint(8, 20))]
            for cue in chosen:
                text.insert(rng.randrange(len(text) + 1), cue)
            labels = "|".join(sorted(MULTI_LABEL_CUES[c] for c in chosen))
            lines.append(f"{labels}\t{''.join(text)}\n")
        (root / f"{split}.txt").write_text("".join(lines), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def multilabel_model(tmp_path_factory):
    """(raw data dir, model dir, metrics) of a tiny multi-label char model with its wide
    path, exported."""
    from textrnn.text.prepare import prepare
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train

    def build(root):
        raw = write_multilabel_corpus(root / "raw")
        prepare({s: str(raw / f"{s}.txt") for s in ("train", "val", "test")}, root / "data",
                tokenizer="char", num_workers=1, progress_every=0, multi_label=True)
        train(TrainConfig(data_dir=str(root / "data"), model_dir=str(root / "model"),
                          num_train_steps=150, wide=True, wide_words=False,
                          **{**TINY_MODEL, "num_word_threshold": 1, "eval_every_steps": 50}))
    root = built_once(tmp_path_factory, "multilabel_model", build)
    metrics = json.loads((root / "model" / "metrics.json").read_text(encoding="utf-8"))
    return root / "raw", root / "model", metrics


@pytest.fixture(scope="session")
def abstaining_export(trained_model, tmp_path_factory):
    """(SavedModel of trained_model exported with sets at alpha 0.2 and abstaining, with
    the label 其他, at a target it reaches on part of val; that target)."""
    from textrnn.training import export
    model_dir, _ = trained_model
    target = partial_abstain_target(model_dir)
    folder = built_once(tmp_path_factory, "abstaining_export", lambda out: export.export_models(
        [str(model_dir)], str(out / "x"), confidence=dict(
            conformal_alpha=0.2, abstain_target_accuracy=target, abstain_label="其他")))
    return folder / "x", target


def partial_abstain_target(model_dir):
    """A target accuracy at which the small model of `model_dir` abstains on some of val,
    not all (its weights, and so its val scores, differ between CPU types)."""
    from textrnn.training import calibration
    record = calibration.Calibration.load(str(model_dir))
    return next(t for t in (0.85, 0.88, 0.8, 0.9, 0.75, 0.7) if 0.05 < record.served(
        abstain_target_accuracy=t).abstain.answered < 0.9)
