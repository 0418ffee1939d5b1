"""The wide path: a linear classifier over character n-gram (and word) TF-IDF features.

A TF-IDF + linear classifier is the baseline a recurrent model must beat,
and its errors differ from the recurrent model's; textrnn trains one beside
the recurrent model and serves their mixture (see `mix`).

The classifier is a plain tf.Module (a kernel and a bias applied with
`tf.sparse.sparse_dense_matmul`) rather than a Keras model: Keras 3's
functional models do not carry gradients through sparse inputs.

It is a one-vs-rest linear SVM with the squared hinge loss, LinearSVC's
default (it scored above a softmax trained the same way on noisy many-class
titles). Its L2 strength is chosen on val, like C for LinearSVC: the penalty
is 1 / (C * n_train) per example for C in `C_GRID`, so the same grid means
the same thing on corpora of any size. For each C the convex objective is
solved (Adam, the rate decayed to zero by a cosine over a fixed number of
epochs) and the solution is scored on val once: stopping early on val
accuracy instead leaves it short of the optimum and fitted to val, where
solving it reaches liblinear's exact solution. The grid is searched from its
middle outward (`search_grid`): val's score against C has one peak, and
each solve is a full training of the classifier. Its scores become
probabilities, for the mixture, by a softmax at a temperature fitted on val
(`calibrate`).
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from textrnn.features import data
from textrnn.training.metrics import log_loss
from textrnn.util.console import Progress, say
from textrnn.training.wide import mean_vectors

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)  # the grid the TF-IDF + SVM peer chooses from
TEMPERATURES = tuple(np.geomspace(0.25, 64.0, 33))


@dataclasses.dataclass
class WideConfig:
    batch_size: int = 512
    learning_rate: float = 0.1  # the peak of the cosine decay
    epochs: int = 20
    min_steps: int = 200  # a tiny corpus gets more epochs, so enough updates to converge
    c_grid: tuple = C_GRID
    seed: int = 1

    def steps_per_epoch(self, num_train):
        return -(-num_train // self.batch_size)

    def epochs_for(self, num_train):
        return max(self.epochs, -(-self.min_steps // self.steps_per_epoch(num_train)))


class WideModel(tf.Module):
    """Sparse TF-IDF rows [batch, features] -> SVM scores, or probabilities."""

    def __init__(self, num_features, num_classes, name="wide"):
        super().__init__(name=name)
        self.kernel = tf.Variable(tf.zeros([num_features, num_classes]), name="kernel")
        self.bias = tf.Variable(tf.zeros([num_classes]), name="bias")
        self.temperature = tf.Variable(1.0, name="temperature")

    def scores(self, features, blocks=1):
        """SVM scores; with `blocks` > 1 the kernel's columns are split into that many
        products, which TensorFlow runs side by side (see `column_blocks`)."""
        if blocks == 1:
            return tf.sparse.sparse_dense_matmul(features, self.kernel) + self.bias
        sizes = [len(part) for part in np.array_split(range(self.kernel.shape[1]), blocks)]
        parts = tf.split(self.kernel, sizes, axis=1)
        return tf.concat([tf.sparse.sparse_dense_matmul(features, part) for part in parts],
                         axis=1) + self.bias

    def __call__(self, features, training=False):
        """Logits: the scores at the temperature fitted on val (1 until `calibrate`)."""
        return self.temperature * self.scores(features)


def column_blocks(num_classes):
    """Into how many blocks of columns training splits the kernel's product.

    TensorFlow's CPU kernel for a sparse x dense product runs on one core,
    and it is most of a step's time; each output column is computed alone, so
    blocks of columns are independent products with the same arithmetic, and
    TensorFlow runs them side by side, one a core, to the same weights bit for
    bit. A GPU runs one product in parallel already.
    """
    if tf.config.list_logical_devices("GPU"):
        return 1
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return max(1, min(num_classes, cores))


def _featurized(lines, featurizer, label_encoder, batch_size):
    def featurize(lines):
        labels, texts = data.fields(lines)
        return featurizer(texts), label_encoder.ids(labels)

    return lines.batch(batch_size).map(featurize, num_parallel_calls=data.AUTOTUNE)


def batches(lines, featurizer, label_encoder, batch_size):
    """(features, labels) batches of a dataset of prepared lines (`data.lines`),
    in order, cached once featurized."""
    return _featurized(lines, featurizer, label_encoder, batch_size).cache().prefetch(
        data.AUTOTUNE)


def training_batches(lines, featurizer, label_encoder, num_texts, what, cfg):
    """The (features, labels) batches of `lines` (`num_texts` of them), in file order,
    featurized once into memory with progress lines: that pass (the in-graph word
    cut) is the slow one; each epoch then reads them in its own order
    (`epoch_orders`)."""
    progress = Progress(f"wide path: featurizing {what}", num_texts, "texts", seconds=10.0)
    kept = []
    for features, labels in _featurized(lines, featurizer, label_encoder, cfg.batch_size):
        kept.append((features, labels))
        progress.add(int(labels.shape[0]))
    return kept


def epoch_orders(num_batches, count, cfg):
    """The order of the batches in each of `count` epochs: a seeded shuffle, another
    order every epoch; the same in any process for the same seed (a shuffle's op seed
    is combined with the global one, which is set to the seed here, as training sets
    it). The epochs are one repeated pass (each repetition reshuffles, as a fresh
    iterator would): a tiny corpus has hundreds of epochs, and an iterator each cost
    more than its shuffle."""
    tf.random.set_seed(cfg.seed)
    shuffled = tf.data.Dataset.range(num_batches).shuffle(
        10_000, seed=cfg.seed, reshuffle_each_iteration=True)
    flat = np.fromiter(shuffled.repeat(count).as_numpy_iterator(), np.int64,
                       count=num_batches * count)
    return list(flat.reshape(count, num_batches))


def grid_orders(num_batches, epochs, cfg):
    """The epoch orders each C of the grid trains on: the i-th C always the i-th block of
    `epochs` orders, so which values the search solves, and in which order, changes no
    one value's result (and a benchmark can solve one C again as training did)."""
    orders = epoch_orders(num_batches, epochs * len(cfg.c_grid), cfg)
    return [orders[i * epochs:(i + 1) * epochs] for i in range(len(cfg.c_grid))]


class _CosineAdam(tf.Module):
    """Adam with its rate decayed from `peak` to zero by a cosine over `total` steps,
    applied by TensorFlow's fused kernel.

    The wide kernel is dense (n-grams x classes, millions of weights) and every
    step updates all of it; Keras' Adam does that in about ten elementwise
    passes, the fused kernel in one. Same update rule as
    keras.optimizers.Adam with keras.optimizers.schedules.CosineDecay.
    """

    BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7

    def __init__(self, variables, peak, total):
        super().__init__(name="cosine_adam")
        self.targets = list(variables)
        self.slots = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v)))
                      for v in self.targets]
        self.peak, self.total = float(peak), float(total)
        self.iterations = tf.Variable(0.0)

    def rate(self):
        done = tf.minimum(self.iterations, self.total) / self.total
        return self.peak * 0.5 * (1.0 + tf.cos(np.pi * done))

    def apply(self, grads):
        rate = self.rate()
        self.iterations.assign_add(1.0)
        beta_1_power = tf.pow(self.BETA_1, self.iterations)
        beta_2_power = tf.pow(self.BETA_2, self.iterations)
        for variable, (m, v), grad in zip(self.targets, self.slots, grads):
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power,
                beta2_power=beta_2_power, lr=rate, beta1=self.BETA_1, beta2=self.BETA_2,
                epsilon=self.EPSILON, grad=grad)


def _make_step(model, peak, total, l2):
    """One update of the objective mean squared hinge + l2 * ||kernel||^2 / 2."""
    optimizer = _CosineAdam([model.kernel, model.bias], peak, total)
    blocks = column_blocks(model.kernel.shape[1])

    @tf.function
    def step(features, labels):
        with tf.GradientTape() as tape:
            scores = model.scores(features, blocks)
            signs = 2.0 * _targets(labels, tf.shape(scores)[1]) - 1.0
            hinge = tf.reduce_sum(tf.square(tf.nn.relu(1.0 - signs * scores)), axis=1)
            loss = tf.reduce_mean(hinge)
        kernel_grad, bias_grad = tape.gradient(loss, [model.kernel, model.bias])
        optimizer.apply([kernel_grad + l2 * model.kernel, bias_grad])
    return step


def _targets(labels, num_classes):
    """0/1 [batch, classes] rows: one-hot class ids, or a multi-label model's rows as they
    are (each label its own binary SVM either way)."""
    if labels.shape.rank == 2:
        return labels
    return tf.one_hot(labels, num_classes)


def predict_scores(model, batches):
    """(SVM scores [n, classes], labels [n]) over a dataset of batches."""
    scores, labels = [], []
    for features, batch_labels in batches:
        scores.append(model.scores(features).numpy())
        labels.append(batch_labels.numpy())
    return np.concatenate(scores), np.concatenate(labels)


def softmax(scores, temperature):
    z = temperature * scores
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def sigmoid(scores, temperature):
    return 1.0 / (1.0 + np.exp(-temperature * scores))


def probabilities(scores, temperature, multi_label):
    """The scores as probabilities: a softmax over the classes, or each label's sigmoid."""
    return (sigmoid if multi_label else softmax)(scores, temperature)


def calibrate(model, scores, labels):
    """Set the model's temperature to the one with the lowest val log-loss: of a softmax
    over the classes, or (0/1 label rows) of each label's sigmoid, one temperature for
    all labels."""
    multi = labels.ndim == 2
    losses = [log_loss(probabilities(scores, t, multi), labels) for t in TEMPERATURES]
    model.temperature.assign(float(TEMPERATURES[int(np.argmin(losses))]))
    return float(model.temperature.numpy())


def solve(c, train, orders, num_features, num_classes, num_train, cfg):
    """The model minimising the objective with penalty 1/(c*n) over the batches `train`,
    one epoch for each batch order of `orders`; (model, epochs)."""
    tf.random.set_seed(cfg.seed)
    model = WideModel(num_features, num_classes)
    epochs = len(orders)
    step = _make_step(model, cfg.learning_rate, epochs * len(train), 1.0 / (c * num_train))
    progress = Progress(f"wide path: C={c:g}", epochs, "epochs", seconds=10.0)
    for order in orders:
        for index in order:
            step(*train[index])
        progress.add(1)
    return model, epochs


def _fit_one(c, train, orders, val, num_features, num_classes, num_train, cfg):
    """Solve the objective with penalty 1/(c*n); returns (model, val accuracy, epochs)."""
    model, epochs = solve(c, train, orders, num_features, num_classes, num_train, cfg)
    scores, labels = predict_scores(model, val)
    return model, decision_score(scores, labels), epochs


def decision_score(scores, labels):
    """Val's score of the SVM's own decisions: accuracy of the top class, or micro-F1 of
    every label with a positive score."""
    from textrnn.training import metrics
    if labels.ndim == 2:
        return metrics.micro_f1(labels, scores > 0)
    return metrics.accuracy(scores, labels)


def train_wide(splits, featurizer, label_encoder, num_classes, num_train, cfg):
    """The wide model with the C of C_GRID that scores best on val (`search_grid`).

    `splits` maps "train" and "val" to datasets of prepared lines (`data.lines`);
    `num_train` is the number of train lines. With a featurizer that has a block of
    mean vectors (textrnn.training.wide.mean_vectors), C is chosen without the block, then the
    block is solved at that C at each of mean_vectors.VECTOR_WEIGHTS and kept only at a
    weight that scores above the model without it (mean_vectors.choose_vector_weight).
    Returns (model, C, val score, epochs, the block's weight: None without a block,
    0 when val left it out).
    """
    train = training_batches(splits["train"], featurizer, label_encoder, num_train, "train", cfg)
    val = list(batches(splits["val"], featurizer, label_encoder, 1024))
    epochs = cfg.epochs_for(num_train)
    orders = grid_orders(len(train), epochs, cfg)
    name = "micro-F1" if label_encoder.multi_label else "accuracy"
    if featurizer.vectors is None:
        model, best, score = _search_c(train, val, orders, featurizer.num_features, num_classes,
                                       num_train, cfg, name)
        return model, cfg.c_grid[best], score, epochs, None
    start = featurizer.num_ngrams
    plain = lambda rows: mean_vectors.weighted_batches(rows, start, 0.0)
    model, best, score = _search_c(plain(train), plain(val), orders, start, num_classes,
                                   num_train, cfg, name)
    solve = lambda weight: _fit_one(
        cfg.c_grid[best], mean_vectors.weighted_batches(train, start, weight), orders[best],
        mean_vectors.weighted_batches(val, start, weight), featurizer.num_features,
        num_classes, num_train, cfg)[:2]
    model, score, weight = mean_vectors.choose_vector_weight(model, score, solve, name)
    return model, cfg.c_grid[best], score, epochs, weight


def _search_c(train, val, orders, num_features, num_classes, num_train, cfg, name):
    """(model, index in cfg.c_grid, val score) of the best C (`search_grid`), each C
    solved on its block of `orders`."""
    scores, models = {}, {}
    epochs = len(orders[0])

    def fit(i):
        c = cfg.c_grid[i]
        models[i], scores[i], _ = _fit_one(c, train, orders[i], val, num_features,
                                           num_classes, num_train, cfg)
        say(f"wide path: C={c:g}: val {name} {scores[i]:.4f} after {epochs} epochs")
        for j in [j for j in models if j != best_point(scores)]:
            del models[j]  # one model held at a time besides the one being solved
        return scores[i]

    solved = search_grid(len(cfg.c_grid), fit)
    best = best_point(scores)
    if solved < len(cfg.c_grid):
        say(f"wide path: C={cfg.c_grid[best]:g} is the best on val of the {solved} values "
            "solved; the grid's others lie beyond values that score worse")
    return models[best], best, scores[best]


def best_point(scores):
    """The point of {point: score} with the best score, the lowest of ties (as a scan
    of the whole grid keeps the first)."""
    return max(scores, key=lambda i: (scores[i], -i))


def search_grid(size, score):
    """Score grid points from the middle outward, on to the next point past an end
    only while that end is the best so far: on a curve with one peak (val score
    against the L2 strength) the best of the grid, for fewer solves. `score(i)`
    scores point i; returns how many points were scored. Ties go to the lower
    point (`best_point`)."""
    scores = {}
    middle = size // 2
    for i in (middle, middle - 1, middle + 1):
        if 0 <= i < size:
            scores[i] = score(i)
    while True:
        best = best_point(scores)
        low, high = min(scores), max(scores)
        if best == low and low > 0:
            scores[low - 1] = score(low - 1)
        elif best == high and high < size - 1:
            scores[high + 1] = score(high + 1)
        else:
            return len(scores)


def refit(lines, featurizer, label_encoder, num_classes, num_texts, c, temperature, cfg):
    """The wide model solved again, at the chosen C and temperature, over `lines`
    (train's and val's: `num_texts` of them); returns (model, epochs).

    Once val has chosen C, the temperature and the mixture weight, it has no
    more choices to make, and 10-30% more labelled texts make a better
    classifier (BENCHMARKS.md's peers table has the SVM refit beside it).
    """
    texts = training_batches(lines, featurizer, label_encoder, num_texts, "train + val", cfg)
    orders = epoch_orders(len(texts), cfg.epochs_for(num_texts), cfg)
    model, epochs = solve(c, texts, orders, featurizer.num_features, num_classes, num_texts,
                           cfg)
    model.temperature.assign(temperature)
    return model, epochs


def save(model, out_dir):
    tf.train.Checkpoint(wide=model).write(os.path.join(out_dir, "wide"))


def load(out_dir, num_classes):
    """(WideModel, NgramFeaturizer) saved in out_dir by `save` and ngrams.save."""
    from textrnn.training.wide import ngrams
    featurizer = ngrams.load(out_dir)
    model = WideModel(featurizer.num_features, num_classes)
    tf.train.Checkpoint(wide=model).read(os.path.join(out_dir, "wide")).assert_consumed()
    return model, featurizer
