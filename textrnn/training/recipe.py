"""The auto recipe: training settings chosen from the prepared data, by rule.

`textrnn-train --recipe=auto` asks `choose` for a value of each setting
below, with the reason, from the train split's size and token lengths only
(val is used later, by early stopping and the wide path's choices; test
never). Flags the user gave explicitly win. Every rule is stated in terms of
the data, never of a corpus name, so it carries to corpora never seen.

The network and its regularisation are the tuned headline recipe's
(flags/thucnews_char.flags), which was chosen on dev; what the rules adapt
is what must change with the data: sequence length, widths on tiny corpora,
the number of steps, and how often to evaluate for early stopping.
"""

import dataclasses
import math
import os

import numpy as np

from textrnn.text import corpus
from textrnn.text import prepared
from textrnn.text import vocab
from textrnn.util.console import say
from textrnn.util.errors import UserError

RECIPES = ("none", "auto")
# With pretrained vectors the embedding trains with the rest from the first step: of
# frozen, frozen for a third of the steps, a tenth of the rate and trained as the rest,
# the last had the best val accuracy (benchmarks/studies/pretrained.py).
FROZEN_WHY = ("pretrained vectors: the embedding trains with the rest from the first step "
              "(the best on val of frozen, thawed later, or slower)")
# With pretrained vectors, less embedding dropout than without: 0.25 had the better mean
# val accuracy of 0.25 and 0.5 (benchmarks/studies/pretrained.py).
VECTORS_EMBEDDING_DROPOUT = 0.25
VECTORS_DROPOUT_WHY = (f"pretrained vectors: embedding dropout {VECTORS_EMBEDDING_DROPOUT}, "
                       "less than without them (the better on val: dropping half the "
                       "vectors' dimensions hides what they bring)")
EPOCHS = 6           # passes over train; early stopping usually ends sooner
MIN_STEPS = 300      # a tiny corpus still gets this many updates
MAX_STEPS = 8000     # bounds the time on a large corpus (~10 min of steps on 2 cores)
EVALS_PER_RUN = 12   # evaluations over a full run: early stopping's resolution
SMALL_CORPUS = 2000  # below this many train texts: narrower network, smaller batches
# The wide path's work per epoch grows with n-grams x classes x train texts (each
# step updates the whole kernel): this bound keeps it to minutes on two cores
# (BENCHMARKS.md, memory and peers, has the times).
WIDE_WORK = 2.5e11
WIDE_NGRAMS = (100_000, 1_000_000)
# Beyond this much prepared train, the wide path learns from every k-th line: its
# time and its peak memory (the cached features) grow with the texts it reads,
# and this bound keeps a corpus of any size to minutes and a few GB
# (BENCHMARKS.md, memory).
WIDE_MAX_TRAIN_MB = 64


@dataclasses.dataclass(frozen=True)
class Choice:
    flag: str
    value: object
    why: str

    def as_flag(self):
        value = str(self.value).lower() if isinstance(self.value, bool) else self.value
        return f"--{self.flag}={value}"


def token_lengths(train_file):
    """(tokens per line, number of labels) of a prepared split (`label<TAB>tok tok ...`)."""
    lengths, labels = [], set()
    with open(train_file, encoding="utf-8") as stream:
        for line in stream:
            label, _, text = line.rstrip("\n").partition("\t")
            lengths.append(text.count(" ") + 1 if text else 0)
            labels.add(label)
    return np.array(lengths), len(labels)


def choose(data_dir, steps=None, vectors_file=None):
    """The auto recipe's choices for a textrnn-prepare folder, in flag order.

    `steps`: the number of training steps when the user gave it; what
    depends on it (warm-up, evaluation interval) follows it. `vectors_file`:
    the --pretrained_embeddings file, whose dimension is the embedding's.
    """
    multi_label = prepared.read(data_dir).multi_label
    train_file = os.path.join(data_dir, "train.txt")
    lengths, classes = token_lengths(train_file)
    if multi_label:  # label fields are sets of labels; the wide path has one SVM a label
        classes = len(vocab.Categories.load(os.path.join(data_dir, vocab.CATEGORIES_FILE)))
    train_size = _size_text(os.path.getsize(train_file))
    n = len(lengths)
    # the texts the wide path reads: every k-th beyond WIDE_MAX_TRAIN_MB
    wide_texts = math.ceil(n / corpus.sample_every(train_file, WIDE_MAX_TRAIN_MB))
    p95 = float(np.percentile(lengths, 95))
    timesteps = int(min(400, max(8, math.ceil(p95 / 8) * 8)))
    small = n < SMALL_CORPUS
    width = 64 if small else 128
    batch = 32 if small else 64
    epoch_steps = math.ceil(n / batch)
    auto_steps = int(min(MAX_STEPS, max(MIN_STEPS, EPOCHS * epoch_steps)))
    steps = steps or auto_steps
    every = max(min(25, steps), steps // EVALS_PER_RUN)
    choices = [
        Choice("num_timesteps", timesteps, f"95% of train texts have at most {p95:.0f} tokens "
               "(rounded up to a multiple of 8, between 8 and 400)"),
        Choice("num_word_threshold", 2, "tokens seen once in train map to <UNK>, so <UNK> "
               "learns what unseen tokens look like"),
        _embedding_width(width, n, small, vectors_file),
        Choice("num_lstm_nodes", width, "one bidirectional LSTM layer as wide as the embedding"),
        Choice("bidirectional", True, "both directions: a text's start and end both matter"),
        Choice("num_fc_nodes", width, "dense layer as wide as the recurrent one"),
        Choice("pooling", "max", "max over the valid steps: robust to length (tuned on dev)"),
        Choice("initializer", "keras", "Keras' initialisers train faster than the original's"),
        Choice("keep_prob", 0.5, "dropout 0.5: small corpora overfit quickly"),
        _embedding_dropout(vectors_file),
        Choice("label_smoothing", 0.1, "label smoothing 0.1 against noisy labels"),
        Choice("weight_decay", 0.1, "decoupled weight decay 0.1 (tuned on dev)"),
        Choice("batch_size", batch, f"{n:,} train texts: batches of {batch}"),
        Choice("num_train_steps", auto_steps, f"{EPOCHS} epochs of {epoch_steps:,} steps, between "
               f"{MIN_STEPS} and {MAX_STEPS}"),
        Choice("learning_rate", 0.002, "Adam at 0.002, the tuned recipe's peak rate"),
        Choice("lr_schedule", "cosine", "cosine decay to zero over the run"),
        Choice("warmup_steps", max(1, steps // 20), "warm-up over the first 5% of steps"),
        Choice("eval_every_steps", every, f"{EVALS_PER_RUN} evaluations over the run"),
        Choice("log_every_steps", every, "a progress line at each evaluation"),
        Choice("checkpoint_every_steps", every, "a resumable checkpoint at each evaluation"),
        Choice("early_stopping_evals", 3, "stop when val accuracy has not improved for 3 "
               "evaluations; the best-val checkpoint is kept and exported"),
        *_pretrained_choices(vectors_file),
        Choice("shuffle_buffer", min(n, 50_000), "shuffle over the whole train split "
               "(up to 50,000 lines)"),
        Choice("cache", n <= 1_000_000, "keep the encoded train split in memory"
               if n <= 1_000_000 else "stream train from disk (over 1,000,000 texts)"),
        Choice("wide", True, "train the character n-gram TF-IDF path beside the recurrent "
               "one and mix them with a weight chosen on val"),
        Choice("wide_max_ngrams", wide_ngrams(wide_texts, classes),
               f"{wide_texts:,} texts x {classes} classes: n-grams x classes x texts at most "
               f"{WIDE_WORK:.1e}, between {WIDE_NGRAMS[0]:,} and {WIDE_NGRAMS[1]:,}, bounds "
               "the wide path's time"),
        Choice("wide_refit", True, "once val has made the wide path's choices, its "
               "classifier is trained again on train + val: more labelled texts for the "
               "model you get"),
        Choice("wide_words", True, "jieba's words are wide features beside the character "
               "n-grams: words that n-grams of 1-3 characters do not pin down"),
        Choice("wide_max_train_mb", WIDE_MAX_TRAIN_MB, f"train is {train_size}: the wide "
               f"path learns from at most {WIDE_MAX_TRAIN_MB} MB of it (beyond, every k-th "
               "line), which bounds its time and memory on a large corpus"),
    ]
    return _for_several_labels(choices) if multi_label else choices


# Several labels a text: each label's sigmoid is read against a threshold, so what the
# model outputs must mean the same in training and in serving. Dropout before max
# pooling does not (the max of dropped-and-rescaled steps is larger than the max of the
# steps), which a softmax's argmax tolerates and a threshold does not; without dropout
# the model also wants the larger rate (benchmarks/results/multilabel_recipe.md).
MULTI_LABEL = {
    "keep_prob": (1.0, "several labels a text: no dropout, so each label's probability "
                       "means the same in training and serving (dropout before max pooling "
                       "shifts it, and thresholds read it)"),
    "embedding_dropout": (0.0, "several labels a text: no embedding dropout (as --keep_prob)"),
    "label_smoothing": (0.0, "several labels a text: 0/1 targets for each label's sigmoid"),
    "weight_decay": (0.0, "several labels a text: no weight decay (better on val without "
                          "dropout and smoothing too)"),
    "learning_rate": (0.005, "several labels a text: Adam at 0.005 (better on val than "
                             "0.002)"),
}


def resolve(cfg, explicit=()):
    """(cfg with the auto recipe's choices for every setting not in `explicit`, the
    choices): the recipe as one pure step that textrnn-train --recipe=auto and
    TextClassifier share. `explicit`: names of the settings the user gave, which win."""
    if not cfg.data_dir or not cfg.model_dir:
        raise UserError("--data_dir and --model_dir are required (see --help)")
    steps = cfg.num_train_steps if "num_train_steps" in explicit else None
    choices = choose(cfg.data_dir, steps, cfg.pretrained_embeddings)
    values = {c.flag: c.value for c in choices if c.flag not in explicit}
    if "num_lstm_nodes" in values:
        values["num_lstm_nodes"] = (values["num_lstm_nodes"],)
    return dataclasses.replace(cfg, **values), choices


def report(choices, cfg, explicit=()):
    """Say each choice with its reason, or that the user's value stands."""
    for choice in choices:
        if choice.flag in explicit:
            say(f"auto recipe: {_as_flag(choice.flag, getattr(cfg, choice.flag))} "
                "(given explicitly)")
        else:
            say(f"auto recipe: {choice.as_flag()}: {choice.why}")


def _as_flag(name, value):
    if isinstance(value, bool):
        return f"--{name}={str(value).lower()}"
    if isinstance(value, tuple):
        return f"--{name}={','.join(map(str, value))}"
    return f"--{name}={value}"


def vectors_width(cfg, explicit=()):
    """cfg with the embedding as wide as --pretrained_embeddings' vectors, unless the width
    was given (TrainConfig.validate then refuses a mismatch)."""
    if not cfg.pretrained_embeddings or "num_embedding_size" in explicit:
        return cfg
    from textrnn.text import vectors
    return dataclasses.replace(cfg, num_embedding_size=vectors.dimension(cfg.pretrained_embeddings))


def _for_several_labels(choices):
    """The choices of a multi-label corpus: MULTI_LABEL's in place of the single-label ones,
    and how positives weigh."""
    return [Choice(c.flag, *MULTI_LABEL[c.flag]) if c.flag in MULTI_LABEL else c
            for c in choices] + [
        Choice("positive_weight", "none", "several labels a text: every decision weighs the "
               "same (weighting a rare label's positives up was worse on val)")]


def _embedding_width(width, n, small, vectors_file):
    if vectors_file:
        from textrnn.text import vectors
        return Choice("num_embedding_size", vectors.dimension(vectors_file),
                      "the pretrained vectors' dimension")
    return Choice("num_embedding_size", width, f"{n:,} train texts "
                  + ("(< 2,000: a narrower network)" if small else "(>= 2,000: the full width)"))


def _embedding_dropout(vectors_file):
    if vectors_file:
        return Choice("embedding_dropout", VECTORS_EMBEDDING_DROPOUT, VECTORS_DROPOUT_WHY)
    return Choice("embedding_dropout", 0.5, "embedding dropout 0.5 (tuned on dev)")


def _pretrained_choices(vectors_file):
    if not vectors_file:
        return []
    return [Choice("freeze_embedding_steps", 0, FROZEN_WHY)]


def _size_text(size):
    """'57 KB', '132.4 MB': a file size for a reason line."""
    return f"{size / 2**20:,.1f} MB" if size >= 2**20 // 10 else f"{size / 2**10:,.0f} KB"


def wide_ngrams(texts, classes):
    """The wide path's n-gram budget for a corpus of this size (a multiple of 10,000)."""
    budget = int(WIDE_WORK / max(1, texts * classes)) // 10_000 * 10_000
    return min(WIDE_NGRAMS[1], max(WIDE_NGRAMS[0], budget))


def write_flagfile(path, choices, cfg, explicit=()):
    """The resolved recipe as a flagfile, each line with its reason."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("# textrnn-train --recipe=auto: the choices made for this data.\n"
                  "# Re-run or edit by hand: textrnn-train --flagfile=THIS_FILE ...\n")
        for choice in choices:
            if choice.flag in explicit:
                out.write(f"# --{choice.flag}: given explicitly\n"
                          f"{_as_flag(choice.flag, getattr(cfg, choice.flag))}\n")
            else:
                out.write(f"# {choice.why}\n{choice.as_flag()}\n")
