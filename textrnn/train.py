"""`textrnn-train`: train the classifier on a `textrnn-prepare` folder.

Step-based like the original: `--num_train_steps` steps of `--batch_size`,
a log line every `--log_every_steps`, evaluation of val and test on every
example every `--eval_every_steps` and at the end. Checkpoints make a run
resumable: run the same command again after an interruption and it carries on
from the last checkpoint, with the optimizer state and the data position.

`--recipe=auto` lets training/recipe.py choose the settings from the data;
`--wide` trains the wide path after the recurrent model (wide/mixture.py).
The Trainer (training/trainer.py) owns the model and its steps,
training/checkpoints.py the model directory, training/reporting.py what
people and TensorBoard see; this file is the loop and the command line.
"""

import os
import shutil
import signal
import time

from absl import flags

from textrnn.training import artifacts
from textrnn.training import recipe
from textrnn.training import reporting
from textrnn.training.config import TrainConfig
from textrnn.util.console import say
from textrnn.util import settings
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-train: one per TrainConfig field, and two of the command line's own
    (defined when the tool runs, so the library imports cleanly)."""
    settings.define_flags(TrainConfig)
    flags.DEFINE_integer("num_lstm_layers", None, "Number of recurrent layers; must equal the "
                         "length of --num_lstm_nodes when given (kept for the original's flag set).")
    flags.DEFINE_enum("recipe", "none", recipe.RECIPES, "none: the flags as given (defaults: "
                      "the original's sizes); auto: choose sequence length, widths, steps, "
                      "schedule, regularisation, early stopping and the wide path from the "
                      "prepared data (printed, and written to MODEL_DIR/recipe.flags). Flags "
                      "given explicitly override its choices.")


def config_from_flags():
    FLAGS = flags.FLAGS
    values = settings.values(TrainConfig, FLAGS)
    if FLAGS.num_lstm_layers is not None and FLAGS.num_lstm_layers != len(values["num_lstm_nodes"]):
        raise UserError(f"--num_lstm_layers={FLAGS.num_lstm_layers} but --num_lstm_nodes has "
                        f"{len(values['num_lstm_nodes'])} sizes; give one size per layer")
    return TrainConfig(**values)


def train(cfg: TrainConfig, flags_text=""):
    """Run (or resume) training; returns the metrics dict also written to metrics.json."""
    cfg.validate()
    multi_label = _multi_label(cfg)
    import tensorflow as tf
    from textrnn.training.trainer import Trainer
    trainer = Trainer(cfg, flags_text)
    say(trainer.describe_devices())
    pretrained = _report_pretrained(trainer)
    start_step = trainer.resume()
    if start_step > cfg.num_train_steps:
        raise UserError(f"{cfg.model_dir} is already at step {start_step}, beyond "
                        f"--num_train_steps={cfg.num_train_steps}")
    say(f"model: {trainer.model.count_params():,} parameters; steps {start_step}.."
        f"{cfg.num_train_steps}, batch {cfg.batch_size}")
    writers = {name: tf.summary.create_file_writer(os.path.join(trainer.out_dir, artifacts.LOGS_DIR, name))
               for name in ("train", "eval")}
    reporter = reporting.Reporter(cfg.num_train_steps, start_step, trainer.metric)
    with _stop_on_sigterm():
        try:
            last_eval, best_results = _loop(trainer, writers, reporter, start_step)
        except KeyboardInterrupt:
            path = trainer.save()
            reporter.message(f"interrupted at step {trainer.step}; checkpoint {path}. "
                             "Run the same command again to resume.")
            raise
    trainer.save()
    metrics = reporting.final_metrics(trainer, _best_results(trainer, best_results), last_eval)
    if pretrained:
        metrics["pretrained"] = pretrained
    if trainer.chief and cfg.wide:
        metrics = _add_wide_path(cfg, metrics)
    if trainer.chief and multi_label and not cfg.wide:  # the wide path chooses its own
        metrics = _add_thresholds(cfg, metrics)
    if trainer.chief:
        artifacts.write_json(artifacts.path(cfg.model_dir, artifacts.METRICS_FILE), metrics)
        if cfg.export:
            from textrnn.serving import export
            export.export_model(cfg.model_dir)
    else:
        shutil.rmtree(trainer.out_dir, ignore_errors=True)
    trainer.barrier()
    return metrics if trainer.chief else None


def _multi_label(cfg):
    """Whether --data_dir's manifest says several labels a text."""
    from textrnn.text import vocab
    manifest = artifacts.read_json(os.path.join(cfg.data_dir, vocab.MANIFEST_FILE))
    return bool(manifest.get("multi_label"))


def _add_thresholds(cfg, metrics):
    """A multi-label recurrent model's thresholds, chosen on val, and its scores at them."""
    from textrnn.features import data
    from textrnn.training import multilabel, predictions
    val, test = predictions.probabilities(
        cfg.model_dir, [data.split_file(cfg.data_dir, s) for s in ("val", "test")])
    return multilabel.add_thresholds(cfg.model_dir, metrics, val, test)


def _report_pretrained(trainer):
    """One line on the vectors' coverage (shares of the tokens the model reads); the
    numbers, for metrics.json."""
    if trainer.covered_ids is None:
        return None
    record = dict(artifacts.read_config(trainer.out_dir)["vocabulary"]["pretrained"])
    record.update({f"{split}_coverage": round(trainer.pretrained_coverage(split), 4)
                   for split in ("train", "val")})
    say(f"pretrained vectors ({record['dim']}-d, {record['rows_read']:,} rows read in "
        f"{record['seconds']:g} s): {record['train_coverage']:.1%} of train tokens and "
        f"{record['val_coverage']:.1%} of val tokens have a vector; {record['added']:,} "
        f"tokens added from the file" + _scaled(record))
    if not record["with_vector"]:
        say(f"warning: no token of the vocabulary has a vector in {record['file']}; is it "
            "the right file for this tokenizer?")
    return record


def _scaled(record):
    """'; values scaled ...' when --rescale_vectors changed the file's values."""
    if record.get("scaled_by", 1.0) == 1.0:
        return ""
    return (f"; values scaled by {record['scaled_by']:.3g} (standard deviation "
            f"{record['file_std']:.3g} -> {record['file_std'] * record['scaled_by']:.3g}, the "
            "random embedding's)")


def _best_results(trainer, best):
    """Val and test results of the best-val checkpoint: `best`, the evaluation that
    found it in this process, or scored again (a run resumed after it was found)."""
    if best is None:
        trainer.restore_best()
        best = {s: dict(zip(("loss", trainer.metric, "examples"), trainer.evaluate(s)))
                for s in ("val", "test")}
    return best


def _next_stop(step, cfg):
    """The next step at which something happens (log, eval, checkpoint, the end)."""
    stops = [cfg.num_train_steps]
    for every in (cfg.log_every_steps, cfg.eval_every_steps, cfg.checkpoint_every_steps):
        stops.append((step // every + 1) * every)
    return min(stops)


def _loop(trainer, writers, reporter, step):
    """Train from `step` to the end (or an early stop); returns (the last evaluation,
    the evaluation of a new best checkpoint found here, or None)."""
    cfg = trainer.cfg
    last_eval = best = None

    def evaluate(step):
        nonlocal last_eval, best
        last_eval = _evaluate(trainer, writers, reporter, step)
        if trainer.record_eval(step, last_eval["val"][trainer.metric]):
            best = last_eval

    if step == cfg.num_train_steps or _should_stop_early(trainer, step):
        evaluate(step)
        return last_eval, best
    while step < cfg.num_train_steps:
        stop = _next_stop(step, cfg)
        started = time.perf_counter()
        trainer.run_steps(stop - step)
        elapsed = time.perf_counter() - started
        trainer.add_seconds(elapsed)
        rate = (stop - step) * cfg.batch_size / max(elapsed, 1e-9)
        step = stop
        end = step == cfg.num_train_steps
        if step % cfg.log_every_steps == 0 or end:
            reporting.log_train(writers, reporter, step, *trainer.take_train_metrics(), rate)
        if step % cfg.eval_every_steps == 0 or end:
            evaluate(step)
            if _should_stop_early(trainer, step):
                reporter.message(f"early stop at step {step}: no better validation "
                                 f"{reporting.METRIC_NAMES[trainer.metric]} since step "
                                 f"{trainer.best[0]}")
                break
        if step % cfg.checkpoint_every_steps == 0:
            trainer.save()
    if last_eval is None or last_eval["step"] != step:
        evaluate(step)
    return last_eval, best


def _should_stop_early(trainer, step):
    cfg = trainer.cfg
    patience = cfg.early_stopping_evals * cfg.eval_every_steps
    best_step = trainer.best[0]
    return bool(patience) and best_step > 0 and step - best_step >= patience


def _evaluate(trainer, writers, reporter, step):
    """Val and test results at `step`, logged."""
    results = {"step": step}
    loss, score, count, confusion = trainer.evaluate("val", confusion=True)
    results["val"] = {"loss": loss, trainer.metric: score, "examples": count}
    loss, score, count = trainer.evaluate("test")
    results["test"] = {"loss": loss, trainer.metric: score, "examples": count}
    reporting.log_eval(writers, reporter, results, trainer.labels, confusion, trainer.metric)
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
    from textrnn.wide import mixture
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
    _embedding_width_of_vectors(flags.FLAGS)
    metrics = train(config_from_flags(), flags.FLAGS.flags_into_string())
    if metrics is None:
        print("worker finished; the chief wrote the outputs")
        return
    print_summary(metrics, flags.FLAGS.model_dir, flags.FLAGS.export)


def _embedding_width_of_vectors(FLAGS):
    """With --pretrained_embeddings the embedding is as wide as the vectors, unless
    --num_embedding_size says otherwise (TrainConfig.validate then refuses it)."""
    if FLAGS.pretrained_embeddings and not FLAGS["num_embedding_size"].present:
        from textrnn.text import vectors
        FLAGS.num_embedding_size = vectors.dimension(FLAGS.pretrained_embeddings)


def apply_auto_recipe(FLAGS):
    """Set every flag the user did not give to the auto recipe's choice; say each one."""
    if not FLAGS.data_dir or not FLAGS.model_dir:
        raise UserError("--data_dir and --model_dir are required (see --help)")
    steps = FLAGS.num_train_steps if FLAGS["num_train_steps"].present else None
    choices = recipe.choose(FLAGS.data_dir, steps, FLAGS.pretrained_embeddings)
    explicit = {c.flag: FLAGS[c.flag].serialize() for c in choices if FLAGS[c.flag].present}
    for choice in choices:
        if choice.flag in explicit:
            say(f"auto recipe: {explicit[choice.flag]} (given explicitly)")
            continue
        FLAGS[choice.flag].value = ([str(choice.value)] if choice.flag == "num_lstm_nodes"
                                    else choice.value)
        say(f"auto recipe: {choice.as_flag()}: {choice.why}")
    os.makedirs(FLAGS.model_dir, exist_ok=True)
    path = artifacts.path(FLAGS.model_dir, artifacts.RECIPE_FILE)
    recipe.write_flagfile(path, choices, explicit)
    say(f"auto recipe written to {path}")



def print_summary(metrics, model_dir, exported):
    """The closing lines: where everything is, and the test accuracy last."""
    model_dir = os.path.abspath(model_dir)
    logs = os.path.join(model_dir, artifacts.LOGS_DIR)
    print(f"model: {model_dir}")
    print(f"TensorBoard logs: {logs}  (view: tensorboard --logdir {logs})")
    if exported:
        print(f"SavedModel: {artifacts.path(model_dir, artifacts.EXPORT_DIR)}")
    if "thresholds" in metrics:
        print(f"step {metrics['global_step']}: test micro-F1 {metrics['test_micro_f1']:.4f}, "
              f"macro-F1 {metrics['test_macro_f1']:.4f}, exact match "
              f"{metrics['test_exact_match']:.4f} (best at step {metrics['best_step']}; "
              f"thresholds chosen on val: val micro-F1 {metrics['val_micro_f1']:.4f})")
        return
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
