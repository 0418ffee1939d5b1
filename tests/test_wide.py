"""The wide path: in-graph n-gram TF-IDF features, the linear classifier, the mixture, export."""

import collections
import json
import math
import shutil

import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_MODEL
from textrnn.training import export
from textrnn.text import corpus
from textrnn.training import predictions
from textrnn.training.wide import mixture
from textrnn.training.wide import ngrams
from textrnn.training.wide import linear as wide

SAMPLE = ["体育新闻：皇马 3:1 胜巴萨", "股市大涨，股民 欢喜", "  ", "", "ab ab\tab", "股市股市股市"]


def reference_grams(text, words=False):
    """A text's features in plain Python, jieba for its words."""
    chars = [c for c in text if not c.isspace()]
    found = ["".join(chars[i:i + n]) for n in ngrams.ORDERS for i in range(len(chars) - n + 1)]
    if words:
        import jieba
        found += [" " + w for w in jieba.lcut("".join(chars), HMM=False)]
    return found


def reference_features(texts, grams, idf, words=False):
    """TF-IDF rows in plain Python/numpy: the oracle for the in-graph featurizer."""
    index = {g: i for i, g in enumerate(grams)}
    rows = np.zeros((len(texts), len(grams)), np.float64)
    for row, text in enumerate(texts):
        counts = collections.Counter(reference_grams(text, words))
        for gram, count in counts.items():
            if gram in index:
                rows[row, index[gram]] = (1 + math.log(count)) * idf[index[gram]]
        norm = np.linalg.norm(rows[row])
        if norm:
            rows[row] /= norm
    return rows


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    texts = tf.data.Dataset.from_tensor_slices(SAMPLE[:2] + SAMPLE[4:]).batch(2)
    grams, idf, count = ngrams.fit(texts, max_ngrams=40)
    path = tmp_path_factory.mktemp("ngrams") / ngrams.NGRAMS_FILE
    ngrams.write_table(path, grams, idf)
    return path, grams, idf, count


def test_fit_counts_documents_and_keeps_the_most_frequent(table):
    _, grams, idf, count = table
    assert count == 4 and len(grams) == 40
    # "股市" occurs in two of the four texts (three times in one): df 2, smoothed IDF
    assert idf[grams.index("股市")] == pytest.approx(math.log(5 / 3) + 1)
    assert set(grams[:3]) == {"股", "市", "股市"}  # the most frequent come first


def test_in_graph_features_equal_the_reference(table):
    path, grams, idf, _ = table
    featurizer = ngrams.NgramFeaturizer(str(path))
    got = tf.sparse.to_dense(featurizer(tf.constant(SAMPLE))).numpy()
    np.testing.assert_allclose(got, reference_features(SAMPLE, grams, idf), atol=1e-5)


WORDS = SAMPLE + ["今天天气不错，我们去公园散步", "今 天 天 气 不 错", "iPhone 12 发布会"]


@pytest.fixture(scope="module")
def word_featurizer(tmp_path_factory):
    """A featurizer of character n-grams and jieba words, saved and loaded back."""
    directory = tmp_path_factory.mktemp("words")
    cut, settings = ngrams.word_segmenter(str(directory))
    texts = tf.data.Dataset.from_tensor_slices(WORDS).batch(3)
    grams, idf, _ = ngrams.fit(texts, max_ngrams=10_000, segmenter=cut)
    ngrams.save(str(directory), grams, idf, settings)
    return ngrams.load(str(directory)), grams, idf


def test_word_features_equal_the_reference(word_featurizer):
    featurizer, grams, idf = word_featurizer
    assert " 今天天气" in grams and " 公园" in grams and "天气" in grams  # words and n-grams
    assert featurizer.segmenter is not None
    got = tf.sparse.to_dense(featurizer(tf.constant(WORDS))).numpy()
    np.testing.assert_allclose(got, reference_features(WORDS, grams, idf, words=True),
                               atol=1e-5)


def test_prepared_and_raw_text_give_the_same_words(word_featurizer):
    """Training reads prepared files (tokens separated by spaces), serving raw text:
    the words are cut from the characters joined without whitespace in both."""
    featurizer, _, _ = word_featurizer
    prepared = tf.sparse.to_dense(featurizer(tf.constant(["今 天 天 气 不 错 ， 去 公 园"])))
    raw = tf.sparse.to_dense(featurizer(tf.constant(["今天天气不错，去公园"])))
    np.testing.assert_array_equal(prepared.numpy(), raw.numpy())


def test_a_table_without_words_is_characters_only(table, tmp_path):
    path, grams, idf, _ = table
    shutil.copy(path, tmp_path / ngrams.NGRAMS_FILE)
    (tmp_path / ngrams.FEATURES_FILE).write_text('{"orders": [1, 2, 3], "words": null}',
                                                 encoding="utf-8")
    featurizer = ngrams.load(str(tmp_path))
    assert featurizer.segmenter is None
    got = tf.sparse.to_dense(featurizer(tf.constant(SAMPLE))).numpy()
    np.testing.assert_allclose(got, reference_features(SAMPLE, grams, idf), atol=1e-5)
    (tmp_path / ngrams.FEATURES_FILE).unlink()
    from textrnn.util.errors import UserError
    with pytest.raises(UserError, match=r"features.json: missing"):
        ngrams.load(str(tmp_path))


def test_bad_features_file_names_the_file(table, tmp_path):
    from textrnn.util.errors import UserError
    shutil.copy(table[0], tmp_path / ngrams.NGRAMS_FILE)
    (tmp_path / ngrams.FEATURES_FILE).write_text('{"orders": ["x"], "words": null}',
                                                 encoding="utf-8")
    with pytest.raises(UserError, match=r"features.json: expected"):
        ngrams.load(str(tmp_path))
    (tmp_path / ngrams.FEATURES_FILE).write_text(  # words, but no segmenter dictionary
        '{"orders": [1, 2, 3], "words": {"fallback_weight": -17.9, "max_word_length": 16}}',
        encoding="utf-8")
    with pytest.raises(UserError, match=r"jieba_trie_edges.tsv: missing"):
        ngrams.load(str(tmp_path))


def test_ngram_count_is_bounded_and_pruning_keeps_the_frequent(tmp_path):
    texts = [f"常见{i}" for i in range(300)]
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(16)
    grams, _, _ = ngrams.fit(dataset, max_ngrams=5, prune_at=50)
    assert len(grams) == 5 and grams[:3] == ["常", "常见", "见"]


def test_bad_ngram_table_names_file_and_line(tmp_path):
    path = tmp_path / "ngrams.txt"
    path.write_text("股\t1.5\n市 no idf\n", encoding="utf-8")
    from textrnn.util.errors import UserError
    with pytest.raises(UserError, match=r"ngrams.txt:2: expected"):
        ngrams.NgramFeaturizer(str(path))


@pytest.fixture(scope="module")
def wide_deep(demo_prepared_char, tmp_path_factory):
    """A small char model of the demo corpus with its wide path, exported."""
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    model_dir = tmp_path_factory.mktemp("models") / "wide_deep"
    metrics = train(TrainConfig(data_dir=str(demo_prepared_char), model_dir=str(model_dir),
                                num_train_steps=60, wide=True, **TINY_MODEL))
    return model_dir, metrics


def test_wide_path_learns_and_the_mixture_is_chosen_on_val(wide_deep, demo_prepared_char):
    model_dir, metrics = wide_deep
    info = json.loads((model_dir / "wide" / "wide.json").read_text(encoding="utf-8"))
    assert info["val_accuracy"]["wide"] > 0.6  # the demo corpus is easy for n-grams
    assert metrics["val_accuracy"] == info["val_accuracy"]["mixture"]
    assert metrics["val_accuracy"] >= max(info["val_accuracy"]["wide"],
                                          info["val_accuracy"]["recurrent"])
    assert 0 <= info["weight"] <= 1 and info["temperature"] > 0
    # then trained again on train + val (the default); test is the exported model's
    lines = sum(len((demo_prepared_char / f"{split}.txt").read_text(encoding="utf-8")
                    .splitlines()) for split in ("train", "val"))
    assert info["refit"]["texts"] == lines and 0 <= info["refit"]["test_accuracy_before"] <= 1
    features = json.loads((model_dir / "wide" / ngrams.FEATURES_FILE).read_text(encoding="utf-8"))
    assert features["words"] is not None  # --wide_words, the default
    assert metrics["test_accuracy"] == info["test_accuracy"]["mixture"]


def svm_objective(model, features, labels, c):
    """The wide path's objective: mean squared hinge + ||W||^2 / (2 C n)."""
    scores = model.scores(features).numpy()
    signs = 2.0 * np.eye(scores.shape[1])[labels] - 1.0
    hinge = np.square(np.maximum(0.0, 1.0 - signs * scores)).sum(axis=1).mean()
    return hinge + np.square(model.kernel.numpy()).sum() / (2 * c * len(labels))


def test_each_c_is_solved_close_to_the_optimum():
    """The wide path solves its convex objective (its C is then chosen on val, as
    LinearSVC's): the result is within 1% of a far longer full-batch solve."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 900)
    dense = rng.random((900, 40)) * (rng.random((900, 40)) < 0.2)
    dense[:, :3] += np.eye(3)[labels] * rng.random((900, 1))  # a weak signal per class
    dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-9)
    features = tf.sparse.from_dense(dense.astype(np.float32))
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(512)
    cfg, c = wide.WideConfig(), 1.0
    orders = wide.epoch_orders(2, cfg.epochs_for(900), cfg)
    model, accuracy, epochs = wide._fit_one(c, list(data), orders, data, 40, 3, 900, cfg)
    assert epochs == cfg.epochs_for(900) == 100  # two batches an epoch: 200 updates
    reference = wide.WideModel(40, 3)
    step = wide._make_step(reference, 0.05, 3000, 1.0 / (c * 900))
    for _ in range(3000):
        step(features, tf.constant(labels))
    assert svm_objective(model, features, labels, c) <= \
        1.01 * svm_objective(reference, features, labels, c)


def test_choose_weight_prefers_the_better_path():
    labels = np.array([0, 1, 1, 0])
    good = np.eye(2)[labels] * 0.8 + 0.1
    bad = np.eye(2)[1 - labels] * 0.8 + 0.1
    assert mixture.choose_weight(bad, good, labels)[:2] == (1.0, 1.0)
    assert mixture.choose_weight(good, bad, labels)[:2] == (0.0, 1.0)


def test_calibrate_fits_a_temperature_that_lowers_val_log_loss():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 500)
    scores = np.eye(3)[labels] * 0.3 + rng.normal(0, 0.1, (500, 3))
    model = wide.WideModel(4, 3)
    temperature = wide.calibrate(model, scores, labels)
    log_loss = lambda t: -np.log(wide.softmax(scores, t)[np.arange(500), labels]).mean()
    assert temperature > 1 and log_loss(temperature) < log_loss(1.0)


@pytest.mark.parametrize("weight", ["chosen", 0.4])
def test_export_of_raw_text_equals_the_in_memory_mixture(wide_deep, demo_prepared_char, tmp_path,
                                                         weight):
    from textrnn.features import data
    from textrnn.training import artifacts
    model_dir, _ = wide_deep
    info_path = model_dir / "wide" / "wide.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if weight != "chosen":  # both paths in the graph, whatever val chose on this tiny corpus
        info["weight"] = weight
        model_dir = tmp_path / "m"
        shutil.copytree(wide_deep[0], model_dir)
        (model_dir / "wide" / "wide.json").write_text(json.dumps(info), encoding="utf-8")
        export.export_model(str(model_dir))
    test_file = data.split_file(str(demo_prepared_char), "test")
    (p_rnn, _), = predictions.probabilities(str(model_dir), [test_file])
    wide_model, featurizer = wide.load(mixture.wide_dir(str(model_dir)), p_rnn.shape[1])
    scores, _ = wide.predict_scores(wide_model, wide.batches(
        data.lines(test_file), featurizer, artifacts.label_encoder(str(model_dir)), 64))
    from textrnn.training import calibration
    mixed = ((1 - info["weight"]) * p_rnn
             + info["weight"] * wide.softmax(scores, info["temperature"]))
    expected = calibration.temper(mixed, calibration.Calibration.load(str(model_dir)).temperature)
    with open(test_file, encoding="utf-8") as stream:
        raw = ["".join(line.rstrip("\n").partition("\t")[2].split()) for line in stream]
    served = tf.saved_model.load(str(model_dir / "export")).signatures["serving_default"]
    out = served(text=tf.constant(raw))
    np.testing.assert_allclose(out["probabilities"].numpy(), expected, atol=1e-5)
    assert ((0 <= out["unknown_share"].numpy()) & (out["unknown_share"].numpy() <= 1)).all()
    members = json.loads((model_dir / "export" / export.EXTRA_DIR / export.INFO_FILE)
                         .read_text(encoding="utf-8"))["members"]
    assert members[0]["wide"]["weight"] == info["weight"]


def test_fused_adam_follows_keras_adam_with_cosine_decay():
    """The wide path's fused update is Keras' Adam and cosine decay, step for step."""
    import keras
    rng = np.random.default_rng(1)
    labels = tf.constant(rng.integers(0, 3, 64))
    features = tf.sparse.from_dense((rng.random((64, 20)) * (rng.random((64, 20)) < 0.3))
                                    .astype(np.float32))
    fused, reference = wide.WideModel(20, 3), wide.WideModel(20, 3)
    step = wide._make_step(fused, 0.1, 8, 0.01)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.1, 8))
    for _ in range(10):  # past the end of the decay, where the rate stays zero
        step(features, labels)
        with tf.GradientTape() as tape:
            scores = reference.scores(features)
            signs = 2.0 * tf.one_hot(labels, 3) - 1.0
            loss = tf.reduce_mean(tf.reduce_sum(tf.square(tf.nn.relu(1.0 - signs * scores)), 1))
            loss += 0.01 * tf.nn.l2_loss(reference.kernel)
        variables = [reference.kernel, reference.bias]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    np.testing.assert_allclose(fused.kernel.numpy(), reference.kernel.numpy(), atol=1e-5)
    np.testing.assert_allclose(fused.bias.numpy(), reference.bias.numpy(), atol=1e-5)


@pytest.mark.parametrize("blocks", [2, 3])
def test_blocks_of_columns_train_the_same_weights_bit_for_bit(monkeypatch, blocks):
    """Training splits the kernel's product into blocks of columns run side by side:
    each column's arithmetic is the same, so are the weights."""
    rng = np.random.default_rng(2)
    labels = tf.constant((rng.random((64, 7)) < 0.3).astype(np.float32))
    features = tf.sparse.from_dense((rng.random((64, 50)) * (rng.random((64, 50)) < 0.2))
                                    .astype(np.float32))
    assert wide.column_blocks(1) == 1 and 1 <= wide.column_blocks(60) <= 60
    trained = {}
    for count in (1, blocks):
        monkeypatch.setattr(wide, "column_blocks", lambda classes, count=count: count)
        model = wide.WideModel(50, 7)
        step = wide._make_step(model, 0.1, 20, 0.01)
        for _ in range(5):
            step(features, labels)
        trained[count] = model
    np.testing.assert_array_equal(trained[1].kernel.numpy(), trained[blocks].kernel.numpy())
    np.testing.assert_array_equal(trained[1].bias.numpy(), trained[blocks].bias.numpy())


def test_refit_learns_from_val_what_train_lacks(tmp_path):
    """After val's choices, the refit trains on train + val: a character that only
    val's texts carry (with its label) moves the refit model, not the train-only one."""
    from textrnn.features import data
    from textrnn.features.encoding import LabelEncoder
    (tmp_path / "categories.txt").write_text("甲\n乙\n", encoding="utf-8")
    (tmp_path / "train.txt").write_text("甲\t子\n乙\t丑\n" * 50, encoding="utf-8")
    (tmp_path / "val.txt").write_text("乙\t寅\n" * 20, encoding="utf-8")
    ngrams.write_table(tmp_path / ngrams.NGRAMS_FILE, ["子", "丑", "寅"], [1.0, 1.0, 2.0])
    featurizer = ngrams.NgramFeaturizer(str(tmp_path / ngrams.NGRAMS_FILE))
    labels = LabelEncoder(str(tmp_path / "categories.txt"))
    cfg = wide.WideConfig(min_steps=50)
    train, val = (data.lines(str(tmp_path / f"{split}.txt")) for split in ("train", "val"))
    selected, c, _, _, _ = wide.train_wide(dict(train=train, val=val), featurizer, labels, 2, 100,
                                        cfg)
    refit, epochs = wide.refit(train.concatenate(val), featurizer, labels, 2, 120, c, 3.0, cfg)
    assert not selected.kernel.numpy()[2].any()  # 寅 (feature 2) is in no train text
    kernel = refit.kernel.numpy()
    assert kernel[2, 1] > 0 > kernel[2, 0]  # val's 寅 texts are 乙
    assert refit.scores(featurizer(tf.constant(["寅"]))).numpy()[0].argmax() == 1
    assert float(refit.temperature.numpy()) == 3.0 and epochs == cfg.epochs_for(120)
    train_only = featurizer(tf.constant(["子", "丑"]))
    assert refit.scores(train_only).numpy().argmax(-1).tolist() == [0, 1]


def test_lines_every_kth_is_a_uniform_sample(tmp_path):
    from textrnn.features import data
    path = tmp_path / "train.txt"
    path.write_text("".join(f"甲\t{i}\n" for i in range(10)), encoding="utf-8")
    assert [line.decode() for line in data.lines(str(path), 3).as_numpy_iterator()] == \
        ["甲\t0", "甲\t3", "甲\t6", "甲\t9"]
    assert corpus.sample_every(str(path), 0) == 1  # no bound
    size_mb = path.stat().st_size / 2**20
    assert corpus.sample_every(str(path), size_mb) == 1
    assert corpus.sample_every(str(path), size_mb / 2.5) == 3


def test_wide_path_over_its_bound_learns_from_every_kth_train_line(demo_prepared_char,
                                                                   tmp_path, capfd):
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    train_file = demo_prepared_char / "train.txt"
    lines = len(train_file.read_text(encoding="utf-8").splitlines())
    bound = train_file.stat().st_size / 2**20 / 3.5  # every 4th line
    model_dir = tmp_path / "sampled"
    train(TrainConfig(data_dir=str(demo_prepared_char), model_dir=str(model_dir),
                      num_train_steps=20, wide=True, wide_words=False,
                      wide_max_train_mb=bound, export=False, **TINY_MODEL))
    info = json.loads((model_dir / "wide" / "wide.json").read_text(encoding="utf-8"))
    sampled = -(-lines // 4)
    assert info["train_every"] == 4 and info["train_texts"] == sampled
    val = len((demo_prepared_char / "val.txt").read_text(encoding="utf-8").splitlines())
    assert info["refit"]["texts"] == sampled + val
    assert f"one line in 4 ({sampled:,} of {lines:,})" in capfd.readouterr().err


@pytest.mark.parametrize("curve, solved", [
    ([0.1, 0.3, 0.9, 0.4, 0.2], 3),  # the peak in the middle: its neighbours only
    ([0.1, 0.9, 0.5, 0.4, 0.2], 4),  # one step past the peak
    ([0.9, 0.8, 0.5, 0.4, 0.2], 4),
    ([0.1, 0.2, 0.3, 0.4, 0.9], 4),
    ([0.5, 0.5, 0.5, 0.5, 0.5], 4),  # ties: down to the lowest, as a scan keeps the first
])
def test_the_c_search_finds_the_peak_of_a_one_peaked_curve(curve, solved):
    asked = []
    score = lambda i: asked.append(i) or curve[i]
    assert wide.search_grid(len(curve), score) == solved == len(set(asked)) == len(asked)
    best = max(asked, key=lambda i: (curve[i], -i))
    assert best == max(range(len(curve)), key=lambda i: (curve[i], -i))


def test_each_epoch_order_is_the_shuffle_of_the_batches_a_cached_stream_gives():
    """The wide path keeps its batches in memory and orders each epoch itself, in the
    order a seeded, reshuffled tf.data stream of them would give in a run of that seed
    (training sets the global seed to it), whatever the global seed before."""
    cfg = wide.WideConfig(seed=3)
    tf.random.set_seed(cfg.seed)
    stream = tf.data.Dataset.range(37).cache().shuffle(10_000, seed=cfg.seed,
                                                       reshuffle_each_iteration=True)
    expected = [list(stream.as_numpy_iterator()) for _ in range(4)]
    tf.random.set_seed(7)
    orders = [order.tolist() for order in wide.epoch_orders(37, 4, cfg)]
    assert orders == expected and sorted(orders[0]) == list(range(37)) != orders[0]
    assert orders[0] != orders[1]


def test_one_c_solved_again_on_its_grid_orders_is_the_model_training_chose(
        wide_deep, demo_prepared_char):
    """What a benchmark re-solves at the chosen C (grid_orders) is, weight for weight,
    the model the C search kept: the i-th C trains on the i-th block of orders."""
    from textrnn.features import data
    from textrnn.training import artifacts
    model_dir, _ = wide_deep
    featurizer = ngrams.load(str(model_dir / "wide"))
    encoder = artifacts.label_encoder(str(model_dir))
    train_file = data.split_file(str(demo_prepared_char), "train")
    num_train = len(open(train_file, encoding="utf-8").read().splitlines())
    cfg = wide.WideConfig(seed=3)
    splits = dict(train=data.lines(train_file),
                  val=data.lines(data.split_file(str(demo_prepared_char), "val")))
    chosen, c, _, epochs, _ = wide.train_wide(splits, featurizer, encoder, encoder.num_classes,
                                           num_train, cfg)
    batches = wide.training_batches(data.lines(train_file), featurizer, encoder, num_train,
                                    "train", cfg)
    orders = wide.grid_orders(len(batches), epochs, cfg)
    index = cfg.c_grid.index(c)
    again, _ = wide.solve(c, batches, orders[index], featurizer.num_features,
                           encoder.num_classes, num_train, cfg)
    np.testing.assert_array_equal(again.kernel.numpy(), chosen.kernel.numpy())
    other, _ = wide.solve(c, batches, orders[(index + 1) % len(orders)],
                           featurizer.num_features, encoder.num_classes, num_train, cfg)
    assert not np.array_equal(other.kernel.numpy(), chosen.kernel.numpy())
