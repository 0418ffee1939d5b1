"""The explain signature: exact wide shares, units that index the text, faithful by
deletion, and the ways people read it (records, marked text, HTML, REST)."""

import math
import random
import re

import numpy as np
import pytest
import tensorflow as tf

from conftest import DEMO
from textrnn.features.encoding import TokenEncoder
from textrnn.serving import explanations, rest
from textrnn.training import attributions
from textrnn.training.wide import linear, ngrams

MIXED = "国家队 在世界杯2024 ABC😀赛,取胜 "  # spaces, Latin, digits, an emoji


def _encoder(tmp_path, split):
    vocab = tmp_path / f"tokens-{split}.txt"
    vocab.write_text("<PAD>\n<UNK>\n国\n家\n", encoding="utf-8")
    return TokenEncoder(str(vocab), 1, 50, split=split)


@pytest.fixture
def wide(tmp_path):
    """(featurizer, linear model with random weights) over MIXED's n-grams and a few
    others; a temperature that is not 1."""
    chars = [c for c in MIXED if not c.isspace()]
    grams = sorted({"".join(chars[i:i + n]) for n in (1, 2, 3) for i in range(len(chars) - n + 1)})
    grams = grams[::2] + ["球", "赛季"]  # some n-grams of the text are not features
    rng = np.random.default_rng(0)
    ngrams.write_table(str(tmp_path / "ngrams.txt"), grams, [float(v) for v in rng.uniform(1, 3, len(grams))])
    featurizer = ngrams.NgramFeaturizer(str(tmp_path / "ngrams.txt"))
    model = linear.WideModel(featurizer.num_features, 4)
    model.kernel.assign(rng.normal(size=(featurizer.num_features, 4)).astype(np.float32))
    model.bias.assign(rng.normal(size=4).astype(np.float32))
    model.temperature.assign(1.7)
    return featurizer, model


def _numpy_terms(text, featurizer_dir, model):
    """[characters, classes] from ngrams.txt and the weights, as the docs define them."""
    grams, idf = [], []
    for line in open(featurizer_dir / "ngrams.txt", encoding="utf-8"):
        gram, value = line.rstrip("\n").split("\t")
        grams.append(gram)
        idf.append(float(value))
    ids = {g: i for i, g in enumerate(grams)}
    chars = [c for c in text if not c.isspace()]
    found = [(ids["".join(chars[i:i + n])], i, n) for n in (1, 2, 3)
             for i in range(len(chars) - n + 1) if "".join(chars[i:i + n]) in ids]
    counts = {}
    for f, _, _ in found:
        counts[f] = counts.get(f, 0) + 1
    weight = {f: (1 + math.log(c)) * idf[f] for f, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in weight.values()))
    kernel, t = model.kernel.numpy().astype(np.float64), float(model.temperature.numpy())
    terms = np.zeros((len(chars), kernel.shape[1]))
    for f, start, n in found:
        for i in range(start, start + n):
            terms[i] += t * weight[f] / norm / counts[f] * kernel[f] / n
    return terms


@pytest.mark.unit
def test_the_wide_shares_are_each_features_term_from_the_weights(wide, tmp_path):
    featurizer, model = wide
    texts = tf.constant([MIXED, "赛季球", ""])
    units = attributions._Units(_encoder(tmp_path, "chars"), texts)
    occurrences = attributions._occurrences(featurizer, units.chars)
    features = featurizer.rows(*occurrences[:2], texts)
    tf.debugging.assert_equal(tf.sparse.to_dense(features), tf.sparse.to_dense(featurizer(texts)))
    terms = attributions._logit_terms(model, featurizer, features, occurrences, units).numpy()
    rows = units.chars.row_splits.numpy()
    for i, text in enumerate([MIXED, "赛季球", ""]):
        expected = _numpy_terms(text, tmp_path, model)
        np.testing.assert_allclose(terms[rows[i]:rows[i + 1]], expected, rtol=1e-5, atol=1e-6)
        logits = model(featurizer(tf.constant([text]))).numpy()[0]
        bias = model.temperature.numpy() * model.bias.numpy()
        np.testing.assert_allclose(expected.sum(axis=0), logits - bias, atol=1e-5)


@pytest.mark.unit
@pytest.mark.parametrize("temperature", [None, 0.5])
def test_a_wide_models_attributions_add_up_to_probability_minus_baseline(wide, tmp_path,
                                                                        temperature):
    from textrnn.training.calibration import Served
    featurizer, model = wide
    served = Served(temperature, 0.5, 0.1) if temperature else None
    explain = attributions.explainer([(1.0, model, featurizer)], _Labels(),
                                     _encoder(tmp_path, "chars"), served)
    out = {k: v.numpy() for k, v in explain(tf.constant([MIXED, "赛季球"])).items()}
    gap = out["probability"] - out["baseline_probability"] - out["attributions"].sum(axis=1)
    assert np.abs(gap).max() < 1e-4, gap
    every = (out["probabilities"] - out["baseline_probabilities"]
             - out["class_attributions"].sum(axis=1))
    assert np.abs(every).max() < 1e-4


class _Labels(tf.Module):
    def labels(self, ids):
        return tf.strings.as_string(ids)


@pytest.mark.unit
@pytest.mark.parametrize("split", ["chars", "bigrams"])
def test_character_units_index_the_characters_they_name(split, tmp_path):
    texts = [MIXED, "", "  ", "a"]
    units = attributions._Units(_encoder(tmp_path, split), tf.constant(texts))
    out = {k: v.numpy() for k, v in units.outputs().items()}
    for i, text in enumerate(texts):
        n = out["num_tokens"][i]
        assert n == sum(not c.isspace() for c in text)
        for token, start, end in zip(out["tokens"][i][:n], out["token_starts"][i][:n],
                                     out["token_ends"][i][:n]):
            assert text[start:end] == token.decode("utf-8") and end == start + 1


@pytest.mark.unit
def test_a_long_text_is_occluded_in_runs_of_units(tmp_path):
    text = "".join(chr(0x4e00 + i) for i in range(60))
    units = attributions._Units(_encoder(tmp_path, "chars"), tf.constant(["短文", text]))
    variants = [v.decode("utf-8") for v in units.without_groups().numpy()]
    assert variants[:2] == ["文", "短"]
    long = variants[2:]
    assert len(long) == attributions.MAX_GROUPS
    removed = []
    for v in long:  # each variant: the text without one run of consecutive characters
        at = next((i for i, (a, b) in enumerate(zip(text, v)) if a != b), len(v))
        gone = len(text) - len(v)
        assert v == text[:at] + text[at + gone:]
        removed.append(text[at:at + gone])
    assert "".join(removed) == text and {len(r) for r in removed} == {2, 3}
    read = attributions._Units(_encoder(tmp_path, "chars"), tf.constant([text]), limit=10)
    variants = [v.decode("utf-8") for v in read.without_groups().numpy()]
    assert variants == [text[:i] + text[i + 1:] for i in range(10)]  # what the model reads
    assert (read.group.numpy()[10:] == -1).all()


def _explanation(text="国家队赢了<b>&</b>"):
    shares = [0.3, -0.2, 0.1, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    units = [explanations.Unit(c, i, i + 1, a) for i, (c, a) in enumerate(zip(text, shares))]
    return explanations.Explanation(text, "体育", 0.8, 0.1, units)


@pytest.mark.unit
def test_the_page_escapes_the_text_and_needs_nothing_else(tmp_path):
    path = tmp_path / "why.html"
    explanations.write_page(str(path), [_explanation()])
    page = path.read_text(encoding="utf-8")
    shown = re.sub(r"</?span[^>]*>", "", page)
    assert "<b>" not in page and "国家队赢了&lt;b&gt;&amp;&lt;/b&gt;" in shown
    assert "http" not in page and "<script" not in page and 'charset="utf-8"' in page
    assert "rgba(22, 163, 74, 0.850)" in page  # the largest share toward the label


@pytest.mark.unit
def test_marked_text_brackets_the_largest_units():
    e = _explanation()
    assert e.marked(2) == "[国]{家}队赢了<b>&</b>"
    assert [u.token for u in e.top(3)] == ["国", "家", "队"]
    row = explanations.table_row(e, 2)
    assert row.startswith("体育 0.8000 (empty text 0.1000)\t[国]{家}") and "国 +0.3000" in row


@pytest.mark.unit
def test_the_rest_reply_lists_only_each_texts_own_units():
    outputs = dict(num_tokens=np.array([1, 2]), tokens=np.array([[b"a", b""], [b"b", b"c"]]),
                   attributions=np.array([[0.5, 0.0], [0.1, 0.2]], np.float32),
                   probability=np.array([0.9, 0.8], np.float32))
    rows = rest.predict_reply(outputs, columnar=False)["predictions"]
    assert rows[0]["tokens"] == ["a"] and rows[1]["tokens"] == ["b", "c"]
    assert rows[0]["attributions"] == [0.5] and rows[0]["num_tokens"] == 1


# --- on the trained demo model (words, cut in the graph; calibrated)

@pytest.fixture(scope="module")
def predictor(trained_model):
    from textrnn.serving.inference import Predictor
    return Predictor(str(trained_model[0] / "export"))


def _demo_texts(count):
    lines = (DEMO / "test.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1] for line in lines[:count]]


def test_word_units_index_the_words_they_name(predictor):
    texts = [MIXED, "", "央行宣布 下调存款准备金率 , 股市上涨😀"]
    for text, e in zip(texts, predictor.explain(texts)):
        assert "".join(u.token for u in e.units) == "".join(text.split())
        assert all(text[u.start:u.end] == u.token for u in e.units)
    assert any(len(u.token) > 1 for u in e.units)  # words, not characters


def test_the_explained_probability_is_the_served_one_batched_or_alone(predictor):
    texts = _demo_texts(7)
    together = list(predictor.explain(texts, batch_size=32))
    served = predictor.run(texts)["probabilities"]
    for text, e, p in zip(texts, together, served):
        alone, = predictor.explain([text])
        assert e.label == predictor.labels[int(np.argmax(p))]
        assert e.probability == pytest.approx(float(p.max()), abs=1e-6)
        np.testing.assert_allclose([u.attribution for u in alone.units],
                                   [u.attribution for u in e.units], atol=1e-5)
    other = predictor.labels[0]
    for e in predictor.explain(texts[:2], label=other):
        assert e.label == other


def test_deleting_the_top_units_lowers_the_probability_more_than_random_ones(predictor):
    explained = [e for e in predictor.explain(_demo_texts(100)) if len(e.units) > 6]
    rng = random.Random(0)
    top = [sorted(e.units, key=lambda u: -u.attribution)[:3] for e in explained]
    chance = [rng.sample(e.units, 3) for e in explained]
    drops = {}
    for name, chosen in (("top", top), ("random", chance)):
        texts = [_without(e.text, units) for e, units in zip(explained, chosen)]
        p = predictor.run(texts)["probabilities"]
        drops[name] = np.mean([e.probability - p[i, predictor.labels.index(e.label)]
                               for i, e in enumerate(explained)])
    assert drops["top"] > drops["random"] + 0.05, drops


def _without(text, units):
    gone = {i for u in units for i in range(u.start, u.end)}
    return "".join(c for i, c in enumerate(text) if i not in gone)


def test_a_multi_label_model_says_it_has_no_explanations(multilabel_model):
    from textrnn.serving.inference import Predictor
    from textrnn.util.errors import UserError
    predictor = Predictor(str(multilabel_model[1] / "export"))
    with pytest.raises(UserError, match="no explain signature.*multi-label"):
        next(predictor.explain(["猫"]))
