"""textrnn.TextClassifier: the Python front door, on the commands' engine."""

import pickle
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import DEMO, ROOT, write_multilabel_corpus
from textrnn import TextClassifier
from textrnn.text import corpus

QUICK = dict(num_train_steps=40, wide=False, verbose=0)


def read(path):
    rows = list(corpus.read_labelled(str(path)))
    return [text for _, _, text in rows], [label for _, label, _ in rows]


@pytest.fixture(scope="module")
def demo():
    return {split: read(DEMO / f"{split}.txt") for split in ("train", "val", "test")}


@pytest.fixture(scope="module")
def fitted(demo):
    return TextClassifier(**QUICK).fit(*demo["train"], validation_data=demo["val"])


def test_predictions_follow_classes_order(fitted, demo):
    texts, labels = demo["test"]
    proba = fitted.predict_proba(texts[:20])
    assert proba.shape == (20, len(fitted.classes_)) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert list(fitted.predict(texts[:20])) == list(fitted.classes_[proba.argmax(1)])
    assert sorted(fitted.classes_) == sorted(set(labels))
    assert 0.0 <= fitted.score(texts, labels) <= 1.0
    assert fitted.predict([]).shape == (0,)


def test_prediction_sets_of_the_saved_model_and_at_another_alpha(fitted, demo):
    texts = demo["test"][0][:60]
    served = fitted.predict_set(texts)
    assert all(s[0] == p for s, p in zip(served, fitted.predict(texts)))  # most probable first
    assert list(fitted.predict_set(texts, alpha=0.1)) == list(served)  # the exported alpha
    wide, narrow = fitted.predict_set(texts, alpha=0.01), fitted.predict_set(texts, alpha=0.5)
    assert all(set(n) <= set(w) for n, w in zip(narrow, wide))
    assert sum(map(len, wide)) > sum(map(len, narrow))
    with pytest.raises(ValueError, match="alpha=1.5: a share between 0 and 1"):
        fitted.predict_set(texts, alpha=1.5)


def test_fitted_attributes(fitted):
    assert fitted.recipe_["num_train_steps"] == 40 and fitted.recipe_["wide"] is False
    assert fitted.recipe_["bidirectional"] is True  # the auto recipe's choice
    assert "val_accuracy" in fitted.metrics_
    assert not any(key.startswith("test_") for key in fitted.metrics_)  # no test was given
    assert not fitted.multi_label_


def test_same_model_as_the_command_line(fitted, demo, tmp_path):
    """fit with validation data trains what textrnn-prepare + textrnn-train --recipe=auto
    train: the same probabilities, to the last bit."""
    from textrnn.text.prepare import prepare
    from textrnn.train import with_auto_recipe
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    paths = {split: str(DEMO / f"{split}.txt") for split in ("train", "val", "test")}
    prepare(paths, tmp_path / "data", tokenizer="char", progress_every=0)
    explicit = {"num_train_steps", "wide"}
    cfg = with_auto_recipe(TrainConfig(data_dir=str(tmp_path / "data"),
                                       model_dir=str(tmp_path / "model"), num_train_steps=40,
                                       wide=False), explicit)
    train(cfg)
    command = TextClassifier.load(tmp_path / "model")
    texts = demo["test"][0]
    assert np.array_equal(command.predict_proba(texts), fitted.predict_proba(texts))
    assert list(command.classes_) == list(fitted.classes_)


def test_save_load_and_export(fitted, demo, tmp_path):
    texts = demo["test"][0][:30]
    path = fitted.save(tmp_path / "m")
    loaded = TextClassifier.load(path)
    assert np.array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.get_params()["num_train_steps"] == 40
    with pytest.raises(ValueError, match="not empty"):
        fitted.save(tmp_path / "m")
    first = fitted.export(serving_base=str(tmp_path / "serving"))
    second = fitted.export(serving_base=str(tmp_path / "serving"))
    assert first.endswith("/1") and second.endswith("/2")
    import tensorflow as tf
    served = tf.saved_model.load(first).signatures["serving_default"]
    labels = [label.decode() for label in served(text=tf.constant(texts))["label"].numpy()]
    assert labels == list(fitted.predict(texts))


def test_pickle_round_trip_predicts_the_same(fitted, demo):
    texts = demo["test"][0][:30]
    copy = pickle.loads(pickle.dumps(fitted))
    assert copy.model_dir_ != fitted.model_dir_
    assert np.array_equal(copy.predict_proba(texts), fitted.predict_proba(texts))


def test_params_and_clone():
    clf = TextClassifier(seed=2, tokenizer="jieba")
    params = clf.get_params()
    assert params["seed"] == 2 and params["tokenizer"] == "jieba" and params["recipe"] == "auto"
    assert params["num_train_steps"] is None  # the recipe chooses
    assert clf.set_params(seed=3) is clf and clf.seed == 3
    with pytest.raises(ValueError, match="invalid parameter 'sede'"):
        clf.set_params(sede=3)
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        TextClassifier(num_steps=3)
    base = pytest.importorskip("sklearn.base")
    copy = base.clone(clf)
    assert copy.get_params() == clf.get_params() and copy is not clf
    assert base.is_classifier(clf)


def test_not_fitted_error():
    with pytest.raises(ValueError, match="not fitted yet"):
        TextClassifier().predict(["一"])
    exceptions = pytest.importorskip("sklearn.exceptions")
    with pytest.raises(exceptions.NotFittedError):
        TextClassifier().predict_proba(["一"])


@pytest.mark.parametrize("X, y, message", [
    (["一", "二"], ["a"], "X has 2 texts but y has 1 labels"),
    (["一", ""], ["a", "b"], "X at position 1 is an empty string"),
    (["一", 3], ["a", "b"], "X at position 1 is a int"),
    (["一", "二"], ["a", None], r"y at position 1 is missing \(None\)"),
    (["一", "二"], ["a", float("nan")], "y at position 1 is missing"),
    (["一", "二"], ["a", "a"], "a single class"),
    (["一", "二"], ["a", 1.5], "the label 1.5 is a float"),
    (["一", "二"], [1, "1"], "both 1 and '1'"),
    ("一二", ["a", "b"], "must be a sequence of texts"),
])
def test_bad_input_says_where(X, y, message):
    with pytest.raises(ValueError, match=message):
        TextClassifier(**QUICK).fit(X, y)


def test_a_pandas_series_is_named_by_its_index():
    pd = pytest.importorskip("pandas")
    X = pd.Series(["一", None, "三"], index=["r1", "r2", "r3"])
    with pytest.raises(ValueError, match=r"X at position 1 \(index 'r2'\)"):
        TextClassifier(**QUICK).fit(X, pd.Series(["a", "b", "a"]))


def test_a_class_too_small_to_hold_out_is_named():
    with pytest.raises(ValueError, match="the class 'b' has a single text.*validation_data"):
        TextClassifier(**QUICK).fit(["一", "二", "三"], ["a", "a", "b"])


def test_labels_come_back_as_given(tmp_path):
    """Whole-number labels: classes_ and predict give numbers; the held-out share is
    stratified and said."""
    texts = [f"{'猫狗'[i % 2]}{'的一是在不了有和人这'[i % 10]}" for i in range(200)]
    labels = [i % 2 for i in range(200)]
    clf = TextClassifier(num_train_steps=30, wide=False, num_word_threshold=1, verbose=0)
    clf.fit(texts, np.array(labels))
    assert clf.classes_.dtype.kind == "i" and sorted(clf.classes_) == [0, 1]
    assert clf.predict(texts[:4]).dtype.kind == "i"


@pytest.mark.slow
def test_several_labels_a_text(tmp_path):
    raw = write_multilabel_corpus(tmp_path / "raw", counts=(400, 80, 80))
    rows = lambda split: [(text, tuple(field.split("|"))) for _, field, text in
                          corpus.read_labelled(str(raw / f"{split}.txt"))]
    train, val, test = rows("train"), rows("val"), rows("test")
    clf = TextClassifier(num_train_steps=150, wide=False, num_word_threshold=1, verbose=0)
    clf.fit([t for t, _ in train], [l for _, l in train],
            validation_data=([t for t, _ in val], [l for _, l in val]))
    assert clf.multi_label_
    predicted = clf.predict([t for t, _ in test])
    assert all(isinstance(p, tuple) and set(p) <= set(clf.classes_) for p in predicted)
    assert clf.predict_proba([t for t, _ in test]).shape == (80, 4)
    assert clf.score([t for t, _ in test], [l for _, l in test]) > 0.5
    with pytest.raises(ValueError, match="predict_set is for one label a text"):
        clf.predict_set([t for t, _ in test])


@pytest.mark.slow
def test_fit_in_a_worker_thread_leaves_the_process_as_found(demo):
    import random
    import keras
    policy, handler = keras.config.dtype_policy().name, signal.getsignal(signal.SIGTERM)
    random.seed(7)
    expected = random.random()
    random.seed(7)
    errors = []

    def work():
        try:
            TextClassifier(num_train_steps=10, wide=False, verbose=0, seed=5).fit(
                *demo["train"], validation_data=demo["val"])
        except BaseException as error:  # reported by the main thread
            errors.append(error)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not errors, errors
    assert random.random() == expected  # the seed the run set is undone
    assert keras.config.dtype_policy().name == policy
    assert signal.getsignal(signal.SIGTERM) is handler


def test_import_changes_nothing_in_the_process():
    code = ("import os, signal, sys; before = dict(os.environ); "
            "handler = signal.getsignal(signal.SIGTERM); import textrnn, textrnn.classifier; "
            "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items()); "
            "assert signal.getsignal(signal.SIGTERM) is handler; "
            "assert 'tensorflow' not in sys.modules, 'import textrnn loads TensorFlow'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_cross_val_score_with_two_jobs():
    """Each fold is fitted in a worker process and the fitted classifier pickled back."""
    selection = pytest.importorskip("sklearn.model_selection")
    texts = [f"{'猫狗'[i % 2]}{'的一是在不了有和人这'[i % 7]}{'中大为上个'[i % 5]}" for i in range(120)]
    labels = ["猫" if i % 2 == 0 else "狗" for i in range(120)]
    clf = TextClassifier(num_train_steps=15, wide=False, num_word_threshold=1, verbose=0)
    scores = selection.cross_val_score(clf, texts, labels, cv=2, n_jobs=2)
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
