"""Wide & deep: the wide path trained beside a finished recurrent model, and their mix.

After the recurrent model's training, `add_wide_path`:
1. fits the character n-grams (and words) and their IDF on train (ngrams.fit);
   a train split over --wide_max_train_mb is read as every k-th line, here
   and in each step below that learns from train,
2. trains the wide classifier, its L2 strength chosen on val (linear.train_wide;
   with pretrained vectors, also the weight of their mean beside the n-grams,
   textrnn.training.wide.mean_vectors), and fits the softmax temperature that turns its
   scores into probabilities on val (linear.calibrate),
3. chooses the weight w of the served mixture
       p = (1 - w) * p_recurrent + w * p_wide
   on val, by accuracy (ties: lower log-loss), from a grid of 0 to 1,
4. with --wide_refit (the default), trains the wide classifier again on
   train + val with the C, temperature and weight val chose (the n-grams and
   IDF stay train's): val has no choice left to make, and its texts make a
   better classifier,
5. writes MODEL_DIR/wide/ (the featurizer's files, the checkpoint, wide.json) and returns
   the metrics of the mixture (val's those of the models that made the
   choices, test's those of the exported model) and val's mixture
   probabilities before the refit, which calibration fits on.

The two are trained separately so that each keeps its own stopping rule
and regularisation (the recurrent path stops on val; the wide path's C is
chosen on val), and the mixture needs no retraining; export (`scorers`) then
composes text -> both paths -> the weighted mixture in one SavedModel.
"""

import dataclasses
import math
import os
import shutil
import time

import numpy as np

from textrnn.text import corpus, prepared, vocab
from textrnn.training import artifacts
from textrnn.training import metrics as scoring  # `metrics` names the metrics dicts here
from textrnn.training import predictions
from textrnn.util.console import say

WEIGHTS = np.round(np.linspace(0.0, 1.0, 21), 2)


def wide_dir(model_dir):
    return artifacts.path(model_dir, artifacts.WIDE_DIR)


def has_wide_path(model_dir):
    return os.path.isfile(os.path.join(wide_dir(model_dir), artifacts.WIDE_INFO_FILE))


def read_info(model_dir):
    """wide.json of model_dir's wide path, or None when it has none."""
    if not has_wide_path(model_dir):
        return None
    return artifacts.read_json(os.path.join(wide_dir(model_dir), artifacts.WIDE_INFO_FILE))


def scorers(model_dir, model, encoder, num_classes, share):
    """(weight, model, encoder) of one model directory, what export serves: its
    recurrent model, and its wide path when it has one, mixed by the weight chosen on
    val; `share` of the total."""
    from textrnn.training.wide import linear
    recurrent = (model, encoder)
    info = read_info(model_dir)
    if info is None:
        return [(share, *recurrent)]
    weight = info["weight"]
    wide_model, featurizer = linear.load(wide_dir(model_dir), num_classes)
    parts = [(share * (1.0 - weight), *recurrent), (share * weight, wide_model, featurizer)]
    return [part for part in parts if part[0] > 0]


def _texts(lines):
    from textrnn.features import data
    return lines.batch(1024).map(lambda b: data.fields(b)[1])


def _threshold(p, labels):
    """Multi-label: the global threshold of the best micro-F1 (val's, for test)."""
    from textrnn.training import multilabel
    return multilabel.choose_global(p, labels)


def _score(p, labels, threshold=None):
    """Accuracy of the top class; for 0/1 label rows, micro-F1 at `threshold` (default:
    the best global one on these rows)."""
    if labels.ndim == 2:
        threshold = _threshold(p, labels) if threshold is None else threshold
        return scoring.micro_f1(labels, p >= threshold)
    return scoring.accuracy(p, labels)


def choose_weight(recurrent, wide, labels):
    """(w, val score, val log-loss) of the best mixture weight on val: by accuracy, or by
    micro-F1 (each weight at its best global threshold) for several labels a text."""
    best = None
    for w in WEIGHTS:
        p = (1.0 - w) * recurrent + w * wide
        score, log_loss = _score(p, labels), scoring.log_loss(p, labels)
        if best is None or (score, -log_loss) > (best[1], -best[2]):
            best = (float(w), score, log_loss)
    return best


def weight_curve(val, test, metric="accuracy"):
    """The mixture at every weight of the grid: val score and log-loss (what the choice
    saw) and the exported model's test score (multi-label: at val's best global
    threshold for that weight), to see how much the weight matters."""
    mixed = lambda split, w: ((1.0 - w) * split[0] + w * split[1], split[2])
    curve = dict(weights=WEIGHTS.tolist())
    curve[f"val_{metric}"] = [round(_score(*mixed(val, w)), 6) for w in WEIGHTS]
    curve["val_log_loss"] = [round(scoring.log_loss(*mixed(val, w)), 6) for w in WEIGHTS]
    curve[f"test_{metric}"] = [
        round(_score(*mixed(test, w), _threshold(*mixed(val, w))
                     if val[2].ndim == 2 else None), 6) for w in WEIGHTS]
    return curve


def _probabilities(fit, model):
    """{split: (recurrent probabilities, wide scores, labels)} of val and test."""
    from textrnn.features import data
    from textrnn.training.wide import linear
    splits = ("val", "test")
    recurrent = predictions.probabilities(fit.model_dir, [fit.files[s] for s in splits])
    out = {}
    for split, (p_rnn, rnn_labels) in zip(splits, recurrent):
        scores, labels = linear.predict_scores(
            model, linear.batches(data.lines(fit.files[split]), fit.featurizer,
                                fit.label_encoder, 1024))
        assert (labels == rnn_labels).all(), "val/test streams out of order"
        out[split] = (p_rnn, scores, labels)
    return out


def _split_size(cfg, split):
    """Lines of a prepared split, as textrnn-prepare's manifest records them."""
    return prepared.read(cfg.data_dir).lines[split]


def _train_sample(cfg, train_file):
    """(every k-th train line as a dataset, k, their number): what the wide path
    learns from, all of train unless it is over --wide_max_train_mb."""
    from textrnn.features import data
    every = corpus.sample_every(train_file, cfg.wide_max_train_mb)
    lines = _split_size(cfg, "train")
    if every > 1:
        say(f"wide path: train is over {cfg.wide_max_train_mb:g} MB: one line in {every} "
            f"({math.ceil(lines / every):,} of {lines:,})")
    return data.lines(train_file, every), every, math.ceil(lines / every)


def _fit_ngrams(cfg, out, train, num_train):
    """The featurizer fitted on the `num_train` lines of `train` (n-grams, words with
    --wide_words, IDF, and with --pretrained_embeddings and --wide_vectors the
    block of mean character vectors, at weight 1 until val chooses it), saved into
    `out`."""
    from textrnn.training.wide import ngrams
    cut, words = ngrams.word_segmenter(out) if cfg.wide_words else (None, None)
    table, idf, _ = ngrams.fit(_texts(train), cfg.wide_max_ngrams, cfg.wide_min_df,
                               total=num_train, segmenter=cut)
    kinds = "character 1-3-grams and jieba words" if cut else "character 1-3-grams"
    say(f"wide path: {len(table):,} features ({kinds}) from {num_train:,} train texts")
    with_vectors = cfg.pretrained_embeddings and cfg.wide_vectors and _save_vectors(
        cfg, out, [gram for gram in table if len(gram) == 1])
    ngrams.save(out, table, idf, words, vector_weight=1.0 if with_vectors else None)
    # read back from the saved files, as export reads them: training then uses
    # exactly the featurizer that will be served
    return ngrams.load(out)


def _save_vectors(cfg, out, characters):
    """Keep the vectors of train's `characters` (and of up to --pretrained_max_tokens
    others) for the mean-vectors block, in `out`; False when none has one."""
    from textrnn.training.wide import mean_vectors
    copy = artifacts.path(cfg.model_dir, artifacts.PRETRAINED_CHARS_DIR)
    kept = mean_vectors.keep(cfg.pretrained_embeddings, characters, cfg.pretrained_max_tokens,
                             copy)
    shutil.rmtree(copy, ignore_errors=True)
    if not kept.tokens:
        say(f"wide path: no character has a vector in {cfg.pretrained_embeddings}: the "
            "n-grams go without them")
        return False
    mean_vectors.save(out, kept)
    found = len(set(kept.tokens).intersection(characters))
    say(f"wide path: the mean of each text's character vectors beside the n-grams: "
        f"{found:,} of train's {len(characters):,} characters have one, "
        f"{len(kept.tokens) - found:,} more from the file; its weight is chosen on val")
    return True


@dataclasses.dataclass
class _Fit:
    """What every step of fitting one wide path reads."""
    model_dir: str
    files: dict          # split -> prepared file
    featurizer: object   # ngrams.NgramFeaturizer
    label_encoder: object
    num_classes: int
    wide_cfg: object     # linear.WideConfig


@dataclasses.dataclass(frozen=True)
class _Chosen:
    """The choices val made: the wide classifier's C, its temperature, the weight."""
    c: float
    temperature: float
    weight: float


def add_wide_path(cfg, metrics):
    """Train and save the wide path of cfg.model_dir; returns (metrics of the mixture,
    val's (mixture probabilities, labels) from the models that made the choices, before
    the refit: what calibration fits on)."""
    from textrnn.features import data
    from textrnn.training.wide import linear
    started = time.perf_counter()
    out = wide_dir(cfg.model_dir)
    os.makedirs(out, exist_ok=True)
    files = {s: data.split_file(cfg.data_dir, s) for s in ("train", "val", "test")}
    train, every, num_train = _train_sample(cfg, files["train"])
    fit = _Fit(cfg.model_dir, files, _fit_ngrams(cfg, out, train, num_train),
               artifacts.label_encoder(cfg.model_dir), _num_classes(cfg.model_dir),
               linear.WideConfig(seed=cfg.seed))
    model, c, _, epochs, vector_weight = linear.train_wide(
        dict(train=train, val=data.lines(files["val"])), fit.featurizer, fit.label_encoder,
        fit.num_classes, num_train, fit.wide_cfg)
    if vector_weight is not None:
        from textrnn.training.wide import ngrams
        ngrams.set_vector_weight(out, vector_weight)
        fit = dataclasses.replace(fit, featurizer=ngrams.load(out))
    p, temperature = _calibrated(fit, model)
    weight, val_score, val_loss = choose_weight(*p["val"])
    chosen = _Chosen(c=c, temperature=temperature, weight=weight)
    m = _metric(fit)
    info = {"weight": weight, "c": c, "epochs": epochs, "temperature": temperature,
            "num_ngrams": fit.featurizer.num_ngrams, "vector_weight": vector_weight,
            "train_texts": num_train, "train_every": every, "refit": None,
            f"val_{m}": _scores(p["val"], weight)}
    if cfg.wide_refit:
        lines = train.concatenate(data.lines(files["val"]))
        model, p["test"], info["refit"] = _refit(
            fit, chosen, lines=lines, num_texts=num_train + _split_size(cfg, "val"),
            test=p["test"], val=p["val"])
    linear.save(model, out)
    info.update({f"test_{m}": _scores(p["test"], weight, p["val"]),
                 "curve": weight_curve(p["val"], p["test"], m),
                 "seconds": round(time.perf_counter() - started, 3)})
    artifacts.write_json(os.path.join(out, artifacts.WIDE_INFO_FILE), info)
    name = "micro-F1" if m == "micro_f1" else m
    say(f"mixture: weight {weight:.2f} on the wide path (chosen on val): val {name} "
        f"{val_score:.4f} (recurrent {info[f'val_{m}']['recurrent']:.4f}, wide "
        f"{info[f'val_{m}']['wide']:.4f})")
    metrics = _mixture_metrics(metrics, info, p["test"], val_score, val_loss, m)
    if m == "micro_f1":
        from textrnn.training import multilabel
        mix = lambda split: ((1 - weight) * split[0] + weight * split[1], split[2])
        metrics = multilabel.add_thresholds(cfg.model_dir, metrics, mix(p["val"]),
                                            mix(p["test"]))
    p_rnn, p_wide, labels = p["val"]
    return metrics, ((1 - weight) * p_rnn + weight * p_wide, labels)


def _metric(fit):
    return "micro_f1" if fit.label_encoder.multi_label else "accuracy"


def _num_classes(model_dir):
    return len(vocab.Categories.load(artifacts.path(model_dir, vocab.CATEGORIES_FILE)))


def _calibrated(fit, model):
    """Both paths' probabilities on val and test, the wide path's at the temperature
    calibrated on val; and that temperature."""
    from textrnn.training.wide import linear
    splits = _probabilities(fit, model)
    p_rnn, scores, labels = splits["val"]
    temperature = linear.calibrate(model, scores, labels)
    multi = fit.label_encoder.multi_label
    p = {split: (p_rnn, linear.probabilities(scores, temperature, multi), labels)
         for split, (p_rnn, scores, labels) in splits.items()}
    return p, temperature


def _mixture_metrics(metrics, info, test, val_score, val_loss, m):
    """metrics.json of a wide & deep run: the recurrent model's beside the mixture's
    (m: the score, accuracy or micro_f1)."""
    p_rnn, p_wide, labels = test
    weight = info["weight"]
    return {**metrics, "recurrent": {f"val_{m}": metrics[f"val_{m}"],
                                     f"test_{m}": metrics[f"test_{m}"]},
            "wide": info, f"val_{m}": val_score,
            f"test_{m}": info[f"test_{m}"]["mixture"],
            "val_loss": val_loss,
            "test_loss": scoring.log_loss((1 - weight) * p_rnn + weight * p_wide, labels),
            "train_seconds": round(metrics["train_seconds"] + info["seconds"], 3),
            "note": "test_* are those of the exported model: the best-val recurrent "
                    "checkpoint mixed with the wide path; val_* those of the models that "
                    "made the choices on val (before the wide path's refit on train + val, "
                    "when there is one)"}


def _paths(split, weight):
    """{mixture, recurrent, wide}: the probabilities of one split's (recurrent, wide, labels)."""
    p_rnn, p_wide, _ = split
    return dict(mixture=(1 - weight) * p_rnn + weight * p_wide, recurrent=p_rnn, wide=p_wide)


def _scores(split, weight, val=None):
    """The score of the mixture at `weight` and of each path on one split's (recurrent
    probabilities, wide probabilities, labels): accuracy, or micro-F1 at the best global
    threshold of `val` (of the split itself when None)."""
    labels = split[2]
    at_val = _paths(val, weight) if val is not None and labels.ndim == 2 else None
    return {name: _score(p, labels, _threshold(at_val[name], val[2]) if at_val else None)
            for name, p in _paths(split, weight).items()}


def _refit(fit, chosen, lines, num_texts, test, val):
    """The wide classifier trained again on train + val (`lines`, `num_texts` of them)
    with the choices val made (`val`: the split they were made on, whose threshold a
    multi-label score uses). Returns (model, test split with its probabilities, what the
    refit did)."""
    from textrnn.features import data
    from textrnn.training.wide import linear
    say(f"wide path: training again on train + val ({num_texts:,} texts) at C={chosen.c:g}")
    model, epochs = linear.refit(lines, fit.featurizer, fit.label_encoder, fit.num_classes,
                               num_texts, chosen.c, chosen.temperature, fit.wide_cfg)
    scores, labels = linear.predict_scores(
        model, linear.batches(data.lines(fit.files["test"]), fit.featurizer, fit.label_encoder,
                            1024))
    p_rnn, _, _ = test
    # recorded to measure what the refit does; nothing is chosen from it
    m = _metric(fit)
    before = _scores(test, chosen.weight, val)["mixture"]
    p_wide = linear.probabilities(scores, chosen.temperature, fit.label_encoder.multi_label)
    return model, (p_rnn, p_wide, labels), {"texts": num_texts, "epochs": epochs,
                                            f"test_{m}_before": before}
