"""The Trainer: strategy, model, optimizer, input streams and compiled steps of a run.

Many training steps run inside one tf.function call (`run_steps`), so the
Python loop in train.py only wakes up to log, evaluate and checkpoint.
"""


from textrnn.training import artifacts
from textrnn.training import checkpoints
from textrnn.util.errors import UserError


class Trainer:
    """One run's strategy, model, optimizers, input streams, compiled steps and state.

    train.py's loop talks to it through methods: `run_steps`, `take_train_metrics`,
    `evaluate`, `record_eval` (keeps the best-val checkpoint), `save`, `resume`,
    `restore_best`, `add_seconds`; `step`, `best` and `seconds` read the state.
    """

    def __init__(self, cfg):
        import keras
        from textrnn.training import devices
        self.cfg = cfg
        keras.utils.set_random_seed(cfg.seed)
        # The strategy first: multi-worker collectives must be configured
        # before anything else initialises TensorFlow's runtime.
        self.strategy = devices.make_strategy(cfg.strategy, cfg.num_cpu_devices)
        self.policy = devices.set_precision(cfg.mixed_precision)
        if self.policy == "mixed_float16" and cfg.embedding_lr_scale != 1.0:
            raise UserError("--embedding_lr_scale needs --mixed_precision=none or bfloat16 "
                            "(one loss scale cannot serve two optimizers)")
        self.chief = devices.is_chief(self.strategy)
        self.out_dir = cfg.model_dir if self.chief else _worker_dir(self.strategy)
        run_config, embedding = checkpoints.prepare_model_dir(cfg, self.out_dir)
        self._inputs(run_config)
        with self.strategy.scope():
            self._build(run_config, embedding)
        self.iterator = self._make_iterator(cfg.seed)
        self.checkpoint, self.manager, self.best_manager = checkpoints.make_checkpoints(
            self.out_dir, self._state(), self.model, self._step)
        self._compile()

    def _inputs(self, run_config):
        """The encoders, the prepared splits and the labels."""
        from textrnn.features import data
        from textrnn.text import vocab
        replicas = self.strategy.num_replicas_in_sync
        if self.cfg.batch_size % replicas:
            raise UserError(f"--batch_size={self.cfg.batch_size} must be a multiple of the "
                            f"{replicas} replicas")
        self.token_encoder = artifacts.token_encoder(self.out_dir, run_config)
        self.label_encoder = artifacts.label_encoder(self.out_dir, run_config)
        self.labels = vocab.Categories.load(artifacts.path(self.out_dir,
                                                           vocab.CATEGORIES_FILE)).labels
        from textrnn.training import objectives
        # each label's share of train: the multi-label head's starting point and weights
        self.label_rates = (objectives.label_rates(self.out_dir, self.labels)
                            if self.label_encoder.multi_label else None)
        self.objective = objectives.objective(self.label_encoder, self.cfg.label_smoothing,
                                              self.cfg.positive_weight, self.label_rates)
        self.metric = self.objective.metric  # accuracy, or micro_f1 for several labels
        self.files = {s: data.split_file(self.cfg.data_dir, s) for s in ("train", "val", "test")}
        self.num_classes = len(self.labels)

    def _build(self, run_config, embedding):
        """Model, optimizers and the run's state, inside the strategy's scope;
        `embedding`: (initial rows, ids of the rows from a vectors file) or None."""
        import tensorflow as tf
        from textrnn.training.recurrent import model as model_lib
        cfg = self.cfg
        self.model = model_lib.build_model(artifacts.model_config(run_config))
        self.embedding = self.model.get_layer("embedding").embeddings
        self.optimizer = _adam(cfg, self.policy)
        # A second Adam at a scaled rate for the embedding alone, when asked for.
        self.embedding_optimizer = (_adam(cfg, self.policy, cfg.embedding_lr_scale)
                                    if cfg.embedding_lr_scale != 1.0 else None)
        self.covered_ids = None  # embedding rows that came from a vectors file
        if self.label_encoder.multi_label:
            from textrnn.training.objectives import prior_logits
            self.model.get_layer("fc2").bias.assign(prior_logits(self.label_rates))
        if embedding is not None:
            rows, self.covered_ids = embedding
            self.embedding.assign(rows)
            # Decay would pull the vectors toward zero: their prior is themselves.
            for optimizer in filter(None, (self.optimizer, self.embedding_optimizer)):
                optimizer.exclude_from_weight_decay(var_list=[self.embedding])
        variable = lambda value, dtype: tf.Variable(value, dtype=dtype, trainable=False)
        self._step = variable(0, tf.int64)
        self._best_val_score = variable(-1.0, tf.float64)  # accuracy, or micro-F1
        self._best_step = variable(0, tf.int64)
        self._train_seconds = variable(0.0, tf.float64)
        # Sums since the last log line, added on every replica and summed when read
        # (a variable the compiled multi-step loop can update in place).
        self._sums = {name: tf.Variable(0.0, trainable=False, dtype=tf.float32,
                                        synchronization=tf.VariableSynchronization.ON_READ,
                                        aggregation=tf.VariableAggregation.SUM)
                      for name in self.objective.sums}
        if self.embedding_optimizer is None:
            self.optimizer.build(self.model.trainable_variables)
        else:
            self.optimizer.build([v for v in self.model.trainable_variables
                                  if v is not self.embedding])
            self.embedding_optimizer.build([self.embedding])

    def _state(self):
        """What a resumable checkpoint holds besides the model."""
        import tensorflow as tf
        state = dict(optimizer=self.optimizer, step=self._step,
                     best_val_accuracy=self._best_val_score,  # the key old checkpoints hold best_step=self._best_step,
                     train_seconds=self._train_seconds)
        if self.embedding_optimizer is not None:
            state["embedding_optimizer"] = self.embedding_optimizer
        # A single-device iterator can be checkpointed, so a resumed run sees
        # exactly the batches it would have seen; distributed iterators cannot
        # (see resume).
        self._data_in_checkpoint = isinstance(self.iterator, tf.__internal__.tracking.Trackable)
        if self._data_in_checkpoint:
            state["data"] = self.iterator
        return state

    def _compile(self):
        import tensorflow as tf
        from textrnn.training.recurrent import model as model_lib
        self.cudnn_reasons = [r for layer in model_lib.recurrent_layers(self.model)
                              for r in model_lib.cudnn_blockers(layer)]
        for layer in model_lib.recurrent_layers(self.model):
            layer.allow_fused = not self.cfg.jit_compile
        # XLA compiles the per-replica step only: the loop around it pulls from
        # a tf.data iterator, which XLA cannot compile.
        self._step_fn = (tf.function(self._replica_train_step, jit_compile=True)
                         if self.cfg.jit_compile else self._replica_train_step)
        self._train_loop = tf.function(self._train_loop_fn)
        self._eval_step = tf.function(self._eval_step_fn, reduce_retracing=True)

    # -- the run's state --
    @property
    def step(self):
        return int(self._step.numpy())

    @property
    def best(self):
        """(step, val score) of the best evaluation so far (the score: `self.metric`);
        step 0: none yet."""
        return int(self._best_step.numpy()), float(self._best_val_score.numpy())

    @property
    def seconds(self):
        return float(self._train_seconds.numpy())

    def add_seconds(self, seconds):
        self._train_seconds.assign_add(seconds)

    def record_eval(self, step, val_score):
        """Keep the best-val checkpoint; True when `val_score` is a new best."""
        if val_score <= self.best[1]:
            return False
        self._best_val_score.assign(val_score)
        self._best_step.assign(step)
        self.best_manager.save(checkpoint_number=step)
        return True

    def save(self):
        """A resumable checkpoint of the current step; returns its path."""
        return self.manager.save(checkpoint_number=self._step)

    def resume(self):
        """Restore the latest checkpoint of the model dir, if any; returns the step."""
        import tensorflow as tf
        from textrnn.util.console import say
        # Every worker restores the chief's checkpoint (the model dir is shared storage).
        latest = tf.train.latest_checkpoint(artifacts.path(self.cfg.model_dir,
                                                           artifacts.CKPT_DIR))
        if latest:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
            say(f"resuming from step {self.step} ({latest})")
            if not self._data_in_checkpoint and self.step:
                # distributed: a fresh shuffle order, seeded by the step
                self.iterator = self._make_iterator(self.cfg.seed + self.step)
        return self.step

    def restore_best(self):
        """Put the best-validation weights back into the model."""
        import tensorflow as tf
        tf.train.Checkpoint(model=self.model).read(
            self.best_manager.latest_checkpoint).expect_partial()

    def feed(self, dataset_fn):
        """Train on batches of `dataset_fn(input_context)` from now on (benchmarks feed
        the same batches to every contender)."""
        self.iterator = iter(self.strategy.distribute_datasets_from_function(dataset_fn))

    def _make_iterator(self, seed):
        from textrnn.features import data
        cfg = self.cfg
        return iter(self.strategy.distribute_datasets_from_function(
            lambda ctx: data.train_dataset(
                self.files["train"], self.token_encoder, self.label_encoder,
                ctx.get_per_replica_batch_size(cfg.batch_size), cfg.shuffle_buffer,
                seed=seed, cache=cfg.cache, input_context=ctx,
                bucket_by_length=cfg.bucket_by_length)))

    # -- compiled pieces --
    def _replica_train_step(self, ids, labels):
        import tensorflow as tf
        cfg = self.cfg
        with tf.GradientTape() as tape:
            logits = self.model(ids, training=True)
            objective, per_example = self.objective.loss(logits, labels)
            loss = tf.nn.compute_average_loss(objective, global_batch_size=cfg.batch_size)
            scaled = self.optimizer.scale_loss(loss) if self.policy == "mixed_float16" else loss
        variables = self.model.trainable_variables
        grads = _global_clip(tape.gradient(scaled, variables), cfg.clip_lstm_grads,
                             self._loss_scale(), self.strategy.num_replicas_in_sync)
        if cfg.freeze_embedding_steps:
            grads = self._frozen_embedding(grads, variables)
        pairs = list(zip(grads, variables))
        if self.embedding_optimizer is None:
            self.optimizer.apply_gradients(pairs)
        else:
            self.optimizer.apply_gradients([(g, v) for g, v in pairs if v is not self.embedding])
            self.embedding_optimizer.apply_gradients([(g, v) for g, v in pairs
                                                      if v is self.embedding])
        for name, value in self.objective.counts(logits, labels, per_example).items():
            self._sums[name].assign_add(value)

    def _frozen_embedding(self, grads, variables):
        """Zero the embedding's gradient before step --freeze_embedding_steps: Adam's moments
        stay zero, so the vectors do not move until then."""
        import tensorflow as tf
        live = tf.cast(self._step >= self.cfg.freeze_embedding_steps, tf.float32)
        return [_scaled(g, live) if v is self.embedding else g for g, v in zip(grads, variables)]

    def pretrained_coverage(self, split):
        """Share of the tokens the model reads in `split` (not padding) whose embedding row
        came from the vectors file."""
        import numpy as np
        from textrnn.features import data
        has_vector = np.zeros(int(self.embedding.shape[0]), dtype=bool)
        has_vector[self.covered_ids] = True
        seen = hit = 0
        for ids, _ in data.eval_dataset(self.files[split], self.token_encoder,
                                        self.label_encoder, 1024):
            ids = ids.numpy()
            ids = ids[ids > 0]
            seen, hit = seen + ids.size, hit + int(has_vector[ids].sum())
        return hit / max(seen, 1)

    def _loss_scale(self):
        if self.policy == "mixed_float16":
            return self.optimizer.dynamic_scale
        return None

    def _train_loop_fn(self, iterator, steps):
        import tensorflow as tf
        for _ in tf.range(steps):
            ids, labels = next(iterator)
            self.strategy.run(self._step_fn, args=(ids, labels))
            self._step.assign_add(1)

    def _eval_step_fn(self, ids, labels):
        import tensorflow as tf

        def replica(ids, labels):
            logits = self.model(ids, training=False)
            _, per_example = self.objective.loss(logits, labels)
            counts = self.objective.counts(logits, labels, per_example)
            if not self.label_encoder.multi_label:
                predicted = tf.argmax(logits, -1, output_type=labels.dtype)
                counts["confusion"] = tf.math.confusion_matrix(
                    labels, predicted, self.num_classes, dtype=tf.float32)
            return counts

        per_replica = self.strategy.run(replica, args=(ids, labels))
        return {name: self.strategy.reduce("SUM", value, axis=None)
                for name, value in per_replica.items()}

    # -- host-side pieces --
    def take_train_metrics(self):
        """(loss, score) of the training batches since the last call; the score is
        `self.metric`."""
        sums = {name: float(v.read_value()) for name, v in self._sums.items()}
        for v in self._sums.values():
            v.assign(0.0)
        return self.objective.summary(sums)

    def evaluate(self, split, confusion=False):
        """(loss, score, examples) over every example of `split`, the score `self.metric`;
        with `confusion` (one label a text), also its confusion matrix (rows: true class,
        columns: predicted).

        The examples go in batches sorted by length, which pad less than file order's:
        each example's logits do not depend on its batch, so the counts are file
        order's exactly (the loss only to float rounding)."""
        from textrnn.features import data
        dataset = self.strategy.distribute_datasets_from_function(
            lambda ctx: data.eval_dataset(self.files[split], self.token_encoder, self.label_encoder,
                                          ctx.get_per_replica_batch_size(self.cfg.batch_size),
                                          input_context=ctx,
                                          sort_by_length=self.cfg.padding == "mask"))
        sums = {}
        for ids, labels in dataset:
            for name, value in self._eval_step(ids, labels).items():
                sums[name] = sums.get(name, 0.0) + value.numpy().astype("float64")
        loss, score = self.objective.summary(sums)
        results = (float(loss), float(score), int(sums["examples"]))
        return results + (sums.get("confusion"),) if confusion else results

    def barrier(self):
        """Wait for every worker, so none leaves while the chief still writes."""
        import tensorflow as tf
        if isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            self.strategy.reduce("SUM", self.strategy.run(lambda: tf.constant(1.0)), axis=None)

    def run_steps(self, steps):
        """Train `steps` steps in one compiled call."""
        import tensorflow as tf
        self._train_loop(self.iterator, tf.constant(steps, tf.int64))

    def describe_devices(self):
        from textrnn.training import devices
        return devices.describe(self.strategy, self.policy, self.cudnn_reasons)


def _adam(cfg, policy, scale=1.0):
    """Adam at --learning_rate (times `scale`) on its schedule, with loss scaling under
    mixed_float16."""
    import keras
    optimizer = keras.optimizers.Adam(_learning_rate(cfg, scale),
                                      weight_decay=cfg.weight_decay or None)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _learning_rate(cfg, scale=1.0):
    peak = cfg.learning_rate * scale
    if cfg.lr_schedule == "constant":
        return peak
    import keras
    # Warm up from ~0 to the peak, then cosine-decay over the remaining steps.
    start = peak if not cfg.warmup_steps else peak / 100
    return keras.optimizers.schedules.CosineDecay(
        start, decay_steps=cfg.num_train_steps - cfg.warmup_steps, alpha=0.0,
        warmup_target=peak if cfg.warmup_steps else None, warmup_steps=cfg.warmup_steps)


def _scaled(grad, factor):
    import tensorflow as tf
    if isinstance(grad, tf.IndexedSlices):
        return tf.IndexedSlices(grad.values * factor, grad.indices, grad.dense_shape)
    return grad * factor


def _worker_dir(strategy):
    """Non-chief workers write to a throwaway place (TensorFlow's multi-worker guide)."""
    import tempfile
    task_id = strategy.cluster_resolver.task_id
    return tempfile.mkdtemp(prefix=f"textrnn-worker{task_id}-")


def _global_clip(grads, clip_norm, loss_scale, replicas):
    """Clip the replica-summed gradients of all variables together by global norm.

    Keras' own global_clipnorm clips each replica's gradients before they are
    summed, which is not the original's clipping once there are several
    replicas; so gradients are summed here, clipped, and handed to the
    optimizer divided by the replica count (it sums them again). With loss
    scaling the gradients are scaled, so the norm bound is scaled with them.
    """
    import tensorflow as tf
    context = tf.distribute.get_replica_context()
    if replicas > 1:
        # Dense: the embedding's sparse gradients differ in row count between
        # replicas, which the collective gather cannot take.
        grads = context.all_reduce(tf.distribute.ReduceOp.SUM,
                                   [tf.convert_to_tensor(g) for g in grads])
    if clip_norm > 0:
        bound = clip_norm if loss_scale is None else clip_norm * tf.cast(loss_scale, tf.float32)
        grads, _ = tf.clip_by_global_norm(grads, bound)
    if replicas > 1:
        grads = [tf.math.scalar_mul(1.0 / replicas, g) for g in grads]
    return grads
