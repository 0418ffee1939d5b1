"""`textrnn-train`: train the classifier on a `textrnn-prepare` folder.

Step-based like the original: `--num_train_steps` steps of `--batch_size`,
a log line every `--log_every_steps`, evaluation of val and test on every
example every `--eval_every_steps` and at the end. Checkpoints make a run
resumable: run the same command again after an interruption and it carries on
from the last checkpoint, with the optimizer state and the data position.

`--recipe=auto` lets recipe.py choose the settings from the data; `--wide`
trains the wide path after the recurrent model (mixture.py). The Trainer
(trainer.py) owns the model and its steps, checkpoints.py the model
directory, reporting.py what people and TensorBoard see; this file is the
loop and the command line.
"""

import dataclasses
import os
import shutil
import signal
import time

from absl import flags

from textrnn import artifacts, checkpoints, recipe, reporting
from textrnn.console import say
from textrnn.errors import UserError, run_app
from textrnn.train_config import TrainConfig


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
                      "initialisers; keras: Keras' defaults.")
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
    # --- flags: recipe and the wide path ----------------------------------------------
    flags.DEFINE_enum("recipe", "none", recipe.RECIPES, "none: the flags as given (defaults: "
                      "the original's sizes); auto: choose sequence length, widths, steps, "
                      "schedule, regularisation, early stopping and the wide path from the "
                      "prepared data (printed, and written to MODEL_DIR/recipe.flags). Flags "
                      "given explicitly override its choices.")
    flags.DEFINE_bool("wide", False, "Also train a linear SVM on character 1-3-gram (and "
                      "word, see --wide_words) TF-IDF (fitted on train, its C chosen on val) "
                      "and serve its mixture with the "
                      "recurrent model in one SavedModel, the weight chosen on val.")
    flags.DEFINE_integer("wide_max_ngrams", 1_000_000, "Most n-grams the wide path keeps (the "
                         "most frequent in train): bounds its memory, its training time and "
                         "the SavedModel size. --recipe=auto chooses it from the corpus size.")
    flags.DEFINE_integer("wide_min_df", 1, "The wide path keeps n-grams seen in at least this "
                         "many train texts.")
    flags.DEFINE_bool("wide_refit", True, "Once val has chosen the wide path's C, temperature "
                      "and mixture weight, train its classifier again on train + val with them "
                      "(its n-grams and IDF stay train's); the val accuracy printed is then the "
                      "one the choices were made on.")
    flags.DEFINE_bool("wide_words", True, "The wide path's features include jieba's words "
                      "(cut in the graph, so the SavedModel carries jieba's dictionary, about "
                      "16 MB) beside the character 1-3-grams.")
    flags.DEFINE_float("wide_max_train_mb", 0.0, "The wide path learns from at most this many "
                       "MB of the prepared train split: from a larger one, every k-th line (a "
                       "uniform sample), which bounds its time and the memory its cached "
                       "features take. 0: all of train. --recipe=auto sets a bound.")
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


def train(cfg: TrainConfig, flags_text=""):
    """Run (or resume) training; returns the metrics dict also written to metrics.json."""
    cfg.validate()
    from textrnn import devices
    from textrnn.trainer import Trainer
    trainer = Trainer(cfg, flags_text)
    tf = trainer.tf
    say(devices.describe(trainer.strategy, trainer.policy, trainer.cudnn_reasons))
    start_step = checkpoints.resume(trainer, cfg.model_dir)
    if start_step > cfg.num_train_steps:
        raise UserError(f"{cfg.model_dir} is already at step {start_step}, beyond "
                        f"--num_train_steps={cfg.num_train_steps}")
    say(f"model: {trainer.model.count_params():,} parameters; steps {start_step}.."
        f"{cfg.num_train_steps}, batch {cfg.batch_size}")
    writers = {name: tf.summary.create_file_writer(os.path.join(trainer.out_dir, artifacts.LOGS_DIR, name))
               for name in ("train", "eval")}
    reporter = reporting.Reporter(cfg.num_train_steps, start_step)
    with _stop_on_sigterm():
        try:
            last_eval = _loop(trainer, writers, reporter, start_step)
        except KeyboardInterrupt:
            path = trainer.manager.save(checkpoint_number=trainer.step)
            reporter.message(f"interrupted at step {int(trainer.step.numpy())}; checkpoint {path}. "
                             "Run the same command again to resume.")
            raise
    trainer.manager.save(checkpoint_number=trainer.step)
    metrics = reporting.final_metrics(trainer, _best_results(trainer), last_eval)
    if trainer.chief and cfg.wide:
        metrics = _add_wide_path(cfg, metrics)
    if trainer.chief:
        artifacts.write_json(artifacts.path(cfg.model_dir, artifacts.METRICS_FILE), metrics)
        if cfg.export:
            from textrnn import export
            export.export_model(cfg.model_dir)
    else:
        shutil.rmtree(trainer.out_dir, ignore_errors=True)
    trainer.barrier()
    return metrics if trainer.chief else None


def _best_results(trainer):
    """Val and test results of the best-val checkpoint (scored again after a resume)."""
    best = getattr(trainer, "best_results", None)
    if best is None:  # resumed after the best was found
        checkpoints.restore_best(trainer)
        best = {s: dict(zip(("loss", "accuracy", "examples"), trainer.evaluate(s)))
                for s in ("val", "test")}
    return best


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
            reporting.log_train(trainer, writers, reporter, step, rate)
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


def _evaluate(trainer, writers, reporter, step):
    """Score val and test; keep the checkpoint when val accuracy is the best so far."""
    results = {"step": step}
    loss, accuracy, count, confusion = trainer.evaluate("val", confusion=True)
    results["val"] = dict(loss=loss, accuracy=accuracy, examples=count)
    loss, accuracy, count = trainer.evaluate("test")
    results["test"] = dict(loss=loss, accuracy=accuracy, examples=count)
    reporting.log_eval(trainer, writers, reporter, results, confusion)
    if results["val"]["accuracy"] > float(trainer.best_val_accuracy.numpy()):
        trainer.best_val_accuracy.assign(results["val"]["accuracy"])
        trainer.best_step.assign(step)
        trainer.best_manager.save(checkpoint_number=step)
        trainer.best_results = results
    return results


class _stop_on_sigterm:
    """Treat SIGTERM like Ctrl-C, so a killed job still saves its checkpoint."""

    def __enter__(self):
        def handler(signum, frame):
            raise KeyboardInterrupt
        self.previous = signal.signal(signal.SIGTERM, handler)

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self.previous)


def _add_wide_path(cfg, metrics):
    """The wide path, after the recurrent model; stopped (Ctrl-C, SIGTERM), it says
    what is kept: the recurrent model's checkpoints, not the wide path's work."""
    from textrnn import mixture
    with _stop_on_sigterm():
        try:
            return mixture.add_wide_path(cfg, metrics)
        except KeyboardInterrupt:
            say("interrupted in the wide path: the recurrent model is saved and kept; run "
                "the same command again to train the wide path from its start")
            raise


def main(argv):
    if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
    if flags.FLAGS.recipe == "auto":
        apply_auto_recipe(flags.FLAGS)
    metrics = train(config_from_flags(), flags.FLAGS.flags_into_string())
    if metrics is None:
        print("worker finished; the chief wrote the outputs")
        return
    print_summary(metrics, flags.FLAGS.model_dir, flags.FLAGS.export)


def apply_auto_recipe(FLAGS):
    """Set every flag the user did not give to the auto recipe's choice; say each one."""
    if not FLAGS.data_dir or not FLAGS.model_dir:
        raise UserError("--data_dir and --model_dir are required (see --help)")
    steps = FLAGS.num_train_steps if FLAGS["num_train_steps"].present else None
    choices = recipe.choose(FLAGS.data_dir, steps)
    explicit = {c.flag: FLAGS[c.flag].serialize() for c in choices if FLAGS[c.flag].present}
    for choice in choices:
        if choice.flag in explicit:
            say(f"auto recipe: {explicit[choice.flag]} (given explicitly)")
            continue
        FLAGS[choice.flag].value = ([str(choice.value)] if choice.flag == "num_lstm_nodes"
                                    else choice.value)
        say(f"auto recipe: {choice.as_flag()}: {choice.why}")
    os.makedirs(FLAGS.model_dir, exist_ok=True)
    path = os.path.join(FLAGS.model_dir, RECIPE_FILE)
    recipe.write_flagfile(path, choices, explicit)
    say(f"auto recipe written to {path}")


RECIPE_FILE = "recipe.flags"


def print_summary(metrics, model_dir, exported):
    """The closing lines: where everything is, and the test accuracy last."""
    model_dir = os.path.abspath(model_dir)
    logs = os.path.join(model_dir, artifacts.LOGS_DIR)
    print(f"model: {model_dir}")
    print(f"TensorBoard logs: {logs}  (view: tensorboard --logdir {logs})")
    if exported:
        print(f"SavedModel: {artifacts.path(model_dir, artifacts.EXPORT_DIR)}")
    if "wide" in metrics:
        weight = metrics["wide"]["weight"]
        refit = " before the wide path's refit on train + val" if metrics["wide"]["refit"] else ""
        print(f"step {metrics['global_step']}: test accuracy {metrics['test_accuracy']:.4f} "
              f"(recurrent best at step {metrics['best_step']} mixed with the wide path at "
              f"weight {weight:.2f}: val {metrics['val_accuracy']:.4f}{refit})")
        return
    print(f"step {metrics['global_step']}: test accuracy {metrics['test_accuracy']:.4f} "
          f"(best val {metrics['best_val_accuracy']:.4f} at step {metrics['best_step']})")


def run():
    define_flags()
    run_app(main)


if __name__ == "__main__":
    run()
