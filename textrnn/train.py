"""`textrnn-train`: train the classifier on a `textrnn-prepare` folder.

Step-based like the original: `--num_train_steps` steps of `--batch_size`,
a log line every `--log_every_steps`, evaluation of val and test on every
example every `--eval_every_steps` and at the end. Checkpoints make a run
resumable: run the same command again after an interruption and it carries on
from the last checkpoint, with the optimizer state and the data position.
"""

import dataclasses
import json
import os
import shutil
import signal
import sys
import time

from absl import flags

from textrnn import artifacts, tokenize, vocab
from textrnn.console import say
from textrnn.errors import UserError, run_app

def define_flags():
    """Flags of textrnn-train (defined when the tool runs, so the library imports cleanly)."""
    # --- flags: data and outputs -------------------------------------------------
    flags.DEFINE_string("data_dir", None, "A textrnn-prepare output folder (train/val/test, vocab).")
    flags.DEFINE_string("model_dir", None, "Folder for checkpoints, logs, metrics and the export. "
                        "If it holds an unfinished run, training resumes from it.")
    flags.DEFINE_integer("num_word_threshold", 10, "Keep tokens seen at least this often in train "
                         "(the original's threshold, applied when loading vocab.txt).")
    flags.DEFINE_integer("max_vocab_size", 0, "Cap on the vocabulary size, reserved tokens "
                         "included (0: no cap).")
    flags.DEFINE_integer("num_timesteps", 50, "Tokens per text; longer texts are truncated.")
    # --- flags: model -------------------------------------------------------------
    flags.DEFINE_integer("num_embedding_size", 16, "Embedding width.")
    flags.DEFINE_enum("cell", "lstm", ["lstm", "gru", "rnn"], "Recurrent cell type.")
    flags.DEFINE_list("num_lstm_nodes", ["32", "32"], "Units of each recurrent layer, comma "
                      "separated; the number of entries is the number of layers.")
    flags.DEFINE_integer("num_lstm_layers", None, "Number of recurrent layers; must equal the "
                         "length of --num_lstm_nodes when given (kept for the original's flag set).")
    flags.DEFINE_bool("bidirectional", False, "Run each recurrent layer in both directions.")
    flags.DEFINE_integer("num_fc_nodes", 32, "Units of the dense ReLU layer before the logits.")
    flags.DEFINE_float("keep_prob", 0.8, "Keep probability of the dropout after each recurrent "
                       "layer and after the dense layer (the original's convention: dropout rate "
                       "is 1 - keep_prob), in training only.")
    flags.DEFINE_enum("initializer", "original", ["original", "keras"], "original: the TF1 graph's "
                      "initialisers (SPEC §4); keras: Keras' defaults.")
    flags.DEFINE_enum("pooling", "last", ["last", "max", "mean", "max_mean", "last_max"],
                      "How the last recurrent layer's outputs become one vector: last (the "
                      "original: the last valid step), or max / mean over the valid steps, "
                      "or concatenations of two.")
    flags.DEFINE_float("embedding_dropout", 0.0, "Dropout rate on embedding channels "
                       "(SpatialDropout1D), in training only.")
    flags.DEFINE_enum("padding", "mask", ["mask", "original"], "mask: pad with <PAD> and read the "
                      "last valid step (textrnn); original: pad with <UNK> to --num_timesteps and "
                      "read the last padded step, reproducing the original's defect.")
    # --- flags: optimisation --------------------------------------------------------
    flags.DEFINE_float("learning_rate", 0.001, "Adam learning rate.")
    flags.DEFINE_enum("lr_schedule", "constant", ["constant", "cosine"], "constant: the "
                      "original; cosine: linear warm-up over --warmup_steps, then cosine decay "
                      "to zero at --num_train_steps.")
    flags.DEFINE_integer("warmup_steps", 0, "Warm-up steps of the cosine schedule.")
    flags.DEFINE_float("weight_decay", 0.0, "Decoupled weight decay of Adam (0: none, as the "
                       "original).")
    flags.DEFINE_float("label_smoothing", 0.0, "Label smoothing of the training loss (0: none). "
                       "Reported losses are always plain cross-entropy.")
    flags.DEFINE_integer("early_stopping_evals", 0, "Stop when validation accuracy has not "
                         "improved for this many evaluations (0: never).")
    flags.DEFINE_float("clip_lstm_grads", 1.0, "Clip all gradients together to this global norm "
                       "(0: no clipping).")
    flags.DEFINE_integer("batch_size", 100, "Global batch size (split across replicas).")
    flags.DEFINE_integer("num_train_steps", 10000, "Total training steps.")
    flags.DEFINE_integer("log_every_steps", 200, "Log loss and accuracy every this many steps.")
    flags.DEFINE_integer("eval_every_steps", 1000, "Evaluate val and test every this many steps.")
    flags.DEFINE_integer("checkpoint_every_steps", 200, "Save a resumable checkpoint every this "
                         "many steps (also saved on Ctrl-C / SIGTERM and at the end).")
    flags.DEFINE_integer("shuffle_buffer", 10000, "Lines held in the shuffle buffer.")
    flags.DEFINE_bool("cache", False, "Keep the training lines in memory after the first pass.")
    flags.DEFINE_integer("seed", 1, "Seed for initialisation, dropout and shuffling.")
    flags.DEFINE_bool("jit_compile", False, "Compile the training step with XLA.")
    flags.DEFINE_bool("export", True, "Write the SavedModel to --model_dir/export at the end.")
    # --- flags: devices -------------------------------------------------------------
    flags.DEFINE_enum("strategy", "auto", ["auto", "default", "one_device", "mirrored",
                                           "multi_worker"],
                      "tf.distribute strategy. auto: mirrored over all GPUs when there are "
                      "several, else the default; multi_worker reads TF_CONFIG.")
    flags.DEFINE_integer("num_cpu_devices", 1, "Split the CPU into this many logical devices, "
                         "so --strategy=mirrored can be tried and tested without GPUs.")
    flags.DEFINE_enum("mixed_precision", "none", ["none", "auto", "float16", "bfloat16"],
                      "Compute dtype policy: float16 (GPU, with loss scaling), bfloat16, auto "
                      "(float16 on GPU, else none). Variables, logits and loss stay float32.")


# Flags that decide the shape of the model or its input: a run cannot resume
# under different values.
_SHAPE_FIELDS = ("num_word_threshold", "max_vocab_size", "num_timesteps", "num_embedding_size",
                 "cell", "num_lstm_nodes", "bidirectional", "num_fc_nodes", "padding",
                 "pooling")


@dataclasses.dataclass
class TrainConfig:
    data_dir: str
    model_dir: str
    num_word_threshold: int = 10
    max_vocab_size: int = 0
    num_timesteps: int = 50
    num_embedding_size: int = 16
    cell: str = "lstm"
    num_lstm_nodes: tuple = (32, 32)
    bidirectional: bool = False
    num_fc_nodes: int = 32
    keep_prob: float = 0.8
    initializer: str = "original"
    pooling: str = "last"
    embedding_dropout: float = 0.0
    padding: str = "mask"
    learning_rate: float = 0.001
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    early_stopping_evals: int = 0
    clip_lstm_grads: float = 1.0
    batch_size: int = 100
    num_train_steps: int = 10000
    log_every_steps: int = 200
    eval_every_steps: int = 1000
    checkpoint_every_steps: int = 200
    shuffle_buffer: int = 10000
    cache: bool = False
    seed: int = 1
    jit_compile: bool = False
    export: bool = True
    strategy: str = "auto"
    num_cpu_devices: int = 1
    mixed_precision: str = "none"

    def validate(self):
        """Raise a UserError naming the flag to change for any value out of range."""
        positive = ("num_timesteps", "num_embedding_size", "num_fc_nodes", "batch_size",
                    "num_train_steps", "log_every_steps", "eval_every_steps",
                    "checkpoint_every_steps", "num_cpu_devices")
        for name in positive:
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if not self.num_lstm_nodes or min(self.num_lstm_nodes) < 1:
            raise UserError("--num_lstm_nodes needs one positive size per layer, e.g. 32,32")
        if not 0.0 < self.keep_prob <= 1.0:
            raise UserError(f"--keep_prob must be in (0, 1], got {self.keep_prob}")
        if self.learning_rate <= 0:
            raise UserError("--learning_rate must be positive")
        if not 0.0 <= self.embedding_dropout < 1.0 or not 0.0 <= self.label_smoothing < 1.0:
            raise UserError("--embedding_dropout and --label_smoothing must be in [0, 1)")
        if self.pooling != "last" and self.padding != "mask":
            raise UserError(f"--pooling={self.pooling} needs --padding=mask")
        if self.warmup_steps < 0 or self.weight_decay < 0 or self.early_stopping_evals < 0:
            raise UserError("--warmup_steps, --weight_decay and --early_stopping_evals must not "
                            "be negative")
        if self.warmup_steps >= self.num_train_steps and self.lr_schedule == "cosine":
            raise UserError("--warmup_steps must be below --num_train_steps")
        if self.clip_lstm_grads < 0 or self.num_word_threshold < 0 or self.max_vocab_size < 0:
            raise UserError("--clip_lstm_grads, --num_word_threshold and --max_vocab_size "
                            "must not be negative")
        if not self.data_dir or not self.model_dir:
            raise UserError("--data_dir and --model_dir are required (see --help)")
        if not os.path.isfile(os.path.join(self.data_dir, vocab.MANIFEST_FILE)):
            raise UserError(f"--data_dir={self.data_dir} is not a textrnn-prepare output folder "
                            f"(no {vocab.MANIFEST_FILE}); run textrnn-prepare first")


def config_from_flags():
    FLAGS = flags.FLAGS
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    values = {name: FLAGS[name].value for name in names}
    try:
        values["num_lstm_nodes"] = tuple(int(n) for n in FLAGS.num_lstm_nodes)
    except ValueError:
        raise UserError(f"--num_lstm_nodes must be integers, got {','.join(FLAGS.num_lstm_nodes)}")
    if FLAGS.num_lstm_layers is not None and FLAGS.num_lstm_layers != len(values["num_lstm_nodes"]):
        raise UserError(f"--num_lstm_layers={FLAGS.num_lstm_layers} but --num_lstm_nodes has "
                        f"{len(values['num_lstm_nodes'])} sizes; give one size per layer")
    return TrainConfig(**values)


# --- the model directory ---------------------------------------------------------

def _run_config(cfg, manifest, tokens):
    from textrnn.model import ModelConfig
    model = ModelConfig(
        vocab_size=len(tokens), num_classes=manifest["num_classes"],
        num_embedding_size=cfg.num_embedding_size, cell=cfg.cell,
        num_lstm_nodes=cfg.num_lstm_nodes, bidirectional=cfg.bidirectional,
        num_fc_nodes=cfg.num_fc_nodes, dropout=round(1.0 - cfg.keep_prob, 6),
        initializer=cfg.initializer, padding=cfg.padding, pooling=cfg.pooling,
        embedding_dropout=cfg.embedding_dropout)
    return dict(
        model=model.to_dict(),
        encoder=dict(num_timesteps=cfg.num_timesteps, padding=cfg.padding,
                     split=tokenize.ENCODER_SPLIT.get(manifest["tokenizer"], "whitespace")),
        tokenizer=manifest["tokenizer"], user_dict=manifest.get("user_dict"),
        vocabulary=dict(num_word_threshold=cfg.num_word_threshold,
                        max_vocab_size=cfg.max_vocab_size, size=len(tokens)),
        train=dataclasses.asdict(cfg),
    )


def _check_resumable(old, new, model_dir):
    """Refuse to resume a run whose model or input shape would differ."""
    new = json.loads(json.dumps(new))  # compare as stored: tuples become lists
    changed = [f"--{k}: {old['train'].get(k)!r} -> {new['train'].get(k)!r}"
               for k in _SHAPE_FIELDS if old["train"].get(k) != new["train"].get(k)]
    if old["model"] != new["model"] and not changed:
        changed.append("the vocabulary or categories of --data_dir changed")
    if changed:
        raise UserError(f"{model_dir} holds a run with a different model shape; it cannot be "
                        f"resumed with these flags ({'; '.join(changed)}). Use another "
                        "--model_dir, or the old flags (saved in its flags.txt).")


def prepare_model_dir(cfg, out_dir):
    """Create or check out_dir (the model dir, or a worker's scratch copy); returns the run config."""
    manifest = artifacts.read_json(os.path.join(cfg.data_dir, vocab.MANIFEST_FILE))
    tokens = vocab.Vocabulary.load(os.path.join(cfg.data_dir, vocab.VOCAB_FILE),
                                   cfg.num_word_threshold, cfg.max_vocab_size or None)
    run_config = _run_config(cfg, manifest, tokens)
    config_path = artifacts.path(out_dir, artifacts.CONFIG_FILE)
    if os.path.isfile(config_path):
        _check_resumable(artifacts.read_json(config_path), run_config, out_dir)
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
        out.write(flags.FLAGS.flags_into_string() if flags.FLAGS.is_parsed() else "")
    return run_config


# --- training ----------------------------------------------------------------------

class Trainer:
    """Owns the strategy, model, optimizer, datasets and checkpoint of one run."""

    def __init__(self, cfg):
        import keras
        import tensorflow as tf
        from textrnn import data, devices, model as model_lib

        self.cfg, self.tf = cfg, tf
        keras.utils.set_random_seed(cfg.seed)
        # The strategy first: multi-worker collectives must be configured
        # before anything else initialises TensorFlow's runtime.
        self.strategy = devices.make_strategy(cfg.strategy, cfg.num_cpu_devices)
        self.policy = devices.set_precision(cfg.mixed_precision)
        self.chief = devices.is_chief(self.strategy)
        self.out_dir = cfg.model_dir if self.chief else _worker_dir(self.strategy)
        run_config = prepare_model_dir(cfg, self.out_dir)
        self.token_encoder = artifacts.token_encoder(self.out_dir, run_config)
        self.label_encoder = artifacts.label_encoder(self.out_dir)
        self.files = {s: data.split_file(cfg.data_dir, s) for s in ("train", "val", "test")}
        replicas = self.strategy.num_replicas_in_sync
        if cfg.batch_size % replicas:
            raise UserError(f"--batch_size={cfg.batch_size} must be a multiple of the "
                            f"{replicas} replicas")
        with self.strategy.scope():
            self.model = model_lib.build_model(artifacts.model_config(run_config))
            self.optimizer = keras.optimizers.Adam(_learning_rate(cfg),
                                                   weight_decay=cfg.weight_decay or None)
            if self.policy == "mixed_float16":
                self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.best_val_accuracy = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
            self.best_step = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
            self.sums = [tf.Variable(0.0, trainable=False, dtype=tf.float32,
                                     synchronization=tf.VariableSynchronization.ON_READ,
                                     aggregation=tf.VariableAggregation.SUM) for _ in range(3)]
            self.optimizer.build(self.model.trainable_variables)
        self.cudnn_reasons = [r for layer in model_lib.recurrent_layers(self.model)
                              for r in model_lib.cudnn_blockers(layer)]
        for layer in model_lib.recurrent_layers(self.model):
            layer.allow_fused = not cfg.jit_compile
        self.iterator = self.make_iterator(cfg.seed)
        # A single-device iterator can be checkpointed, so a resumed run sees
        # exactly the batches it would have seen; distributed iterators cannot
        # (see reseed_data).
        self.data_in_checkpoint = isinstance(self.iterator, tf.__internal__.tracking.Trackable)
        state = dict(data=self.iterator) if self.data_in_checkpoint else {}
        self.checkpoint = tf.train.Checkpoint(
            model=self.model, optimizer=self.optimizer, step=self.step,
            best_val_accuracy=self.best_val_accuracy, best_step=self.best_step,
            train_seconds=self.train_seconds, **state)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(self.out_dir, artifacts.CKPT_DIR), max_to_keep=2,
            step_counter=self.step)
        self.best_manager = tf.train.CheckpointManager(
            tf.train.Checkpoint(model=self.model, step=self.step),
            os.path.join(self.out_dir, artifacts.BEST_DIR), max_to_keep=1, step_counter=self.step)
        # XLA compiles the per-replica step only: the loop around it pulls from
        # a tf.data iterator, which XLA cannot compile.
        self._step_fn = (tf.function(self._replica_train_step, jit_compile=True)
                         if cfg.jit_compile else self._replica_train_step)
        self._train_loop = tf.function(self._train_loop_fn)
        self._eval_step = tf.function(self._eval_step_fn, reduce_retracing=True)

    def make_iterator(self, seed):
        from textrnn import data
        cfg = self.cfg
        return iter(self.strategy.distribute_datasets_from_function(
            lambda ctx: data.train_dataset(
                self.files["train"], self.token_encoder, self.label_encoder,
                ctx.get_per_replica_batch_size(cfg.batch_size), cfg.shuffle_buffer,
                seed=seed, cache=cfg.cache, input_context=ctx)))

    def reseed_data(self):
        """After a distributed resume: a fresh shuffle order, seeded by the step."""
        if not self.data_in_checkpoint and int(self.step.numpy()):
            self.iterator = self.make_iterator(self.cfg.seed + int(self.step.numpy()))

    # -- compiled pieces --
    def _replica_train_step(self, ids, labels):
        tf, cfg = self.tf, self.cfg
        with tf.GradientTape() as tape:
            logits = self.model(ids, training=True)
            per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits)
            objective = per_example
            if cfg.label_smoothing:
                smooth = tf.one_hot(labels, tf.shape(logits)[-1]) * (1 - cfg.label_smoothing) \
                    + cfg.label_smoothing / tf.cast(tf.shape(logits)[-1], tf.float32)
                objective = tf.nn.softmax_cross_entropy_with_logits(labels=smooth, logits=logits)
            loss = tf.nn.compute_average_loss(objective, global_batch_size=cfg.batch_size)
            scaled = self.optimizer.scale_loss(loss) if self.policy == "mixed_float16" else loss
        variables = self.model.trainable_variables
        grads = _global_clip(tape.gradient(scaled, variables), cfg.clip_lstm_grads,
                             self._loss_scale(), self.strategy.num_replicas_in_sync)
        self.optimizer.apply_gradients(zip(grads, variables))
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels),
                          tf.float32)
        for var, value in zip(self.sums, (tf.reduce_sum(per_example), tf.reduce_sum(correct),
                                          tf.cast(tf.size(labels), tf.float32))):
            var.assign_add(value)

    def _loss_scale(self):
        if self.policy == "mixed_float16":
            return self.optimizer.dynamic_scale
        return None

    def _train_loop_fn(self, iterator, steps):
        for _ in self.tf.range(steps):
            ids, labels = next(iterator)
            self.strategy.run(self._step_fn, args=(ids, labels))
            self.step.assign_add(1)

    def _eval_step_fn(self, ids, labels):
        tf = self.tf

        def replica(ids, labels):
            logits = self.model(ids, training=False)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            correct = tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels)
            return (tf.reduce_sum(loss), tf.reduce_sum(tf.cast(correct, tf.float32)),
                    tf.cast(tf.size(labels), tf.float32))

        per_replica = self.strategy.run(replica, args=(ids, labels))
        return [self.strategy.reduce("SUM", value, axis=None) for value in per_replica]

    # -- host-side pieces --
    def read_sums(self):
        loss, correct, count = (float(v.read_value()) for v in self.sums)
        for v in self.sums:
            v.assign(0.0)
        return loss / max(count, 1.0), correct / max(count, 1.0)

    def evaluate(self, split):
        """(loss, accuracy, examples) over every example of `split`."""
        from textrnn import data
        dataset = self.strategy.distribute_datasets_from_function(
            lambda ctx: data.eval_dataset(self.files[split], self.token_encoder, self.label_encoder,
                                          ctx.get_per_replica_batch_size(self.cfg.batch_size),
                                          input_context=ctx))
        loss = correct = count = 0.0
        for ids, labels in dataset:
            batch_loss, batch_correct, batch_count = self._eval_step(ids, labels)
            loss, correct, count = loss + float(batch_loss), correct + float(batch_correct), count + float(batch_count)
        return loss / max(count, 1.0), correct / max(count, 1.0), int(count)

    def barrier(self):
        """Wait for every worker, so none leaves while the chief still writes."""
        tf = self.tf
        if isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            self.strategy.reduce("SUM", self.strategy.run(lambda: tf.constant(1.0)), axis=None)

    def run_steps(self, steps):
        self._train_loop(self.iterator, self.tf.constant(steps, self.tf.int64))


def _learning_rate(cfg):
    if cfg.lr_schedule == "constant":
        return cfg.learning_rate
    import keras
    # Warm up from ~0 to the peak, then cosine-decay over the remaining steps.
    start = cfg.learning_rate if not cfg.warmup_steps else cfg.learning_rate / 100
    return keras.optimizers.schedules.CosineDecay(
        start, decay_steps=cfg.num_train_steps - cfg.warmup_steps, alpha=0.0,
        warmup_target=cfg.learning_rate if cfg.warmup_steps else None,
        warmup_steps=cfg.warmup_steps)


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


class _Reporter:
    """A progress bar on a terminal; one log line per interval elsewhere."""

    def __init__(self, total, start):
        import keras
        self.tty = sys.stderr.isatty()
        self.bar = keras.utils.Progbar(total, stateful_metrics=["loss", "accuracy"]) if self.tty else None
        if self.bar and start:
            self.bar.update(start)

    def train(self, step, loss, accuracy, rate):
        if self.bar:
            self.bar.update(step, [("loss", loss), ("accuracy", accuracy)])
        else:
            say(f"step {step}: loss {loss:.4f}, accuracy {accuracy:.4f}, {rate:,.0f} examples/s")

    def message(self, text):
        if self.bar:
            sys.stderr.write("\n")
        say(text)


def train(cfg: TrainConfig):
    """Run (or resume) training; returns the metrics dict also written to metrics.json."""
    cfg.validate()
    trainer = Trainer(cfg)
    tf = trainer.tf
    from textrnn import devices
    say(devices.describe(trainer.strategy, trainer.policy, trainer.cudnn_reasons))
    # Every worker restores the chief's checkpoint (the model dir is shared storage).
    latest = tf.train.latest_checkpoint(artifacts.path(cfg.model_dir, artifacts.CKPT_DIR))
    if latest:
        trainer.checkpoint.restore(latest).assert_existing_objects_matched()
        say(f"resuming from step {int(trainer.step.numpy())} ({latest})")
        trainer.reseed_data()
    start_step = int(trainer.step.numpy())
    if start_step > cfg.num_train_steps:
        raise UserError(f"{cfg.model_dir} is already at step {start_step}, beyond "
                        f"--num_train_steps={cfg.num_train_steps}")
    say(f"model: {trainer.model.count_params():,} parameters; steps {start_step}.."
        f"{cfg.num_train_steps}, batch {cfg.batch_size}")
    writers = {name: tf.summary.create_file_writer(os.path.join(trainer.out_dir, artifacts.LOGS_DIR, name))
               for name in ("train", "eval")}
    reporter = _Reporter(cfg.num_train_steps, start_step)
    with _stop_on_sigterm():
        try:
            last_eval = _loop(trainer, writers, reporter, start_step)
        except KeyboardInterrupt:
            path = trainer.manager.save(checkpoint_number=trainer.step)
            reporter.message(f"interrupted at step {int(trainer.step.numpy())}; checkpoint {path}. "
                             "Run the same command again to resume.")
            raise
    trainer.manager.save(checkpoint_number=trainer.step)
    metrics = _final_metrics(trainer, last_eval)
    if trainer.chief:
        artifacts.write_json(artifacts.path(cfg.model_dir, artifacts.METRICS_FILE), metrics)
        if cfg.export:
            from textrnn import export
            export.export_model(cfg.model_dir)
    else:
        shutil.rmtree(trainer.out_dir, ignore_errors=True)
    trainer.barrier()
    return metrics if trainer.chief else None


def _next_stop(step, cfg):
    """The next step at which something happens (log, eval, checkpoint, the end)."""
    stops = [cfg.num_train_steps]
    for every in (cfg.log_every_steps, cfg.eval_every_steps, cfg.checkpoint_every_steps):
        stops.append((step // every + 1) * every)
    return min(stops)


def _loop(trainer, writers, reporter, step):
    """Train from `step` to the end (or an early stop); returns the last evaluation."""
    cfg = trainer.cfg
    last_eval = None
    if step == cfg.num_train_steps or _should_stop_early(trainer, step):
        return _evaluate(trainer, writers, reporter, step)
    while step < cfg.num_train_steps:
        stop = _next_stop(step, cfg)
        started = time.perf_counter()
        trainer.run_steps(stop - step)
        elapsed = time.perf_counter() - started
        trainer.train_seconds.assign_add(elapsed)
        rate = (stop - step) * cfg.batch_size / max(elapsed, 1e-9)
        step = stop
        end = step == cfg.num_train_steps
        if step % cfg.log_every_steps == 0 or end:
            _log_train(trainer, writers, reporter, step, rate)
        if step % cfg.eval_every_steps == 0 or end:
            last_eval = _evaluate(trainer, writers, reporter, step)
            if _should_stop_early(trainer, step):
                reporter.message(f"early stop at step {step}: no better validation accuracy "
                                 f"since step {int(trainer.best_step.numpy())}")
                break
        if step % cfg.checkpoint_every_steps == 0:
            trainer.manager.save(checkpoint_number=step)
    if last_eval is None or last_eval["step"] != step:
        last_eval = _evaluate(trainer, writers, reporter, step)
    return last_eval


def _should_stop_early(trainer, step):
    cfg = trainer.cfg
    patience = cfg.early_stopping_evals * cfg.eval_every_steps
    return bool(patience) and int(trainer.best_step.numpy()) > 0 and step - int(trainer.best_step.numpy()) >= patience


def _log_train(trainer, writers, reporter, step, rate):
    loss, accuracy = trainer.read_sums()
    reporter.train(step, loss, accuracy, rate)
    with writers["train"].as_default(step=step):
        trainer.tf.summary.scalar("loss", loss)
        trainer.tf.summary.scalar("accuracy", accuracy)


def _evaluate(trainer, writers, reporter, step):
    results = {"step": step}
    for split in ("val", "test"):
        loss, accuracy, count = trainer.evaluate(split)
        results[split] = dict(loss=loss, accuracy=accuracy, examples=count)
        with writers["eval"].as_default(step=step):
            trainer.tf.summary.scalar(f"{split}_loss", loss)
            trainer.tf.summary.scalar(f"{split}_accuracy", accuracy)
    reporter.message(f"step {step}: val accuracy {results['val']['accuracy']:.4f} "
                     f"(loss {results['val']['loss']:.4f}), test accuracy "
                     f"{results['test']['accuracy']:.4f} (loss {results['test']['loss']:.4f})")
    if results["val"]["accuracy"] > float(trainer.best_val_accuracy.numpy()):
        trainer.best_val_accuracy.assign(results["val"]["accuracy"])
        trainer.best_step.assign(step)
        trainer.best_manager.save(checkpoint_number=step)
        trainer.best_results = results
    return results


def _final_metrics(trainer, last_eval):
    """metrics.json: the exported (best-val) checkpoint's numbers, and the last step's."""
    cfg = trainer.cfg
    best = getattr(trainer, "best_results", None)
    if best is None:  # resumed after the best was found: score the best checkpoint again
        trainer.tf.train.Checkpoint(model=trainer.model).read(
            trainer.best_manager.latest_checkpoint).expect_partial()
        best = {s: dict(zip(("loss", "accuracy", "examples"), trainer.evaluate(s)))
                for s in ("val", "test")}
    seconds = float(trainer.train_seconds.numpy())
    return dict(
        global_step=int(trainer.step.numpy()),
        val_accuracy=best["val"]["accuracy"], val_loss=best["val"]["loss"],
        test_accuracy=best["test"]["accuracy"], test_loss=best["test"]["loss"],
        best_val_accuracy=float(trainer.best_val_accuracy.numpy()), best_step=int(trainer.best_step.numpy()),
        val_examples=best["val"]["examples"], test_examples=best["test"]["examples"],
        final_step=dict(val_accuracy=last_eval["val"]["accuracy"], val_loss=last_eval["val"]["loss"],
                        test_accuracy=last_eval["test"]["accuracy"],
                        test_loss=last_eval["test"]["loss"]) if last_eval else None,
        train_seconds=round(seconds, 3),
        examples_per_second=round(int(trainer.step.numpy()) * cfg.batch_size / max(seconds, 1e-9), 1),
        note="val_*/test_* are those of the best-validation checkpoint, the one exported",
    )


class _stop_on_sigterm:
    """Treat SIGTERM like Ctrl-C, so a killed job still saves its checkpoint."""

    def __enter__(self):
        def handler(signum, frame):
            raise KeyboardInterrupt
        self.previous = signal.signal(signal.SIGTERM, handler)

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self.previous)


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    metrics = train(config_from_flags())
    if metrics is None:
        print("worker finished; the chief wrote the outputs")
        return
    print(f"step {metrics['global_step']}: test accuracy {metrics['test_accuracy']:.4f} "
          f"(best val {metrics['best_val_accuracy']:.4f} at step {metrics['best_step']})")
    print(f"model: {os.path.abspath(flags.FLAGS.model_dir)}")
    if flags.FLAGS.export:
        print(f"SavedModel: {os.path.abspath(artifacts.path(flags.FLAGS.model_dir, artifacts.EXPORT_DIR))}")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
