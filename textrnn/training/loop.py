"""The training run, top to bottom: the recurrent model's loop with evaluation,
early stopping and checkpoints, then the wide path, thresholds and the export.

Step-based like the original: `num_train_steps` steps of `batch_size`, a log
line every `log_every_steps`, evaluation of val and test on every example
every `eval_every_steps` and at the end. Checkpoints make a run resumable:
call `train` again with the same config after an interruption and it carries
on from the last checkpoint, with the optimizer state and the data position.

The Trainer (trainer.py) owns the model and its steps, checkpoints.py the
model directory, reporting.py what people and TensorBoard see; the settings
are a TrainConfig (config.py), resolved by the auto recipe (recipe.py) first
when wanted. textrnn-train and TextClassifier.fit both end here.
"""

import os
import shutil
import time

from textrnn.text import prepared
from textrnn.training import artifacts
from textrnn.training import reporting
from textrnn.training.config import CONFIDENCE_FIELDS, TrainConfig
from textrnn.util.console import say
from textrnn.util.errors import UserError


def train(cfg: TrainConfig):
    """Run (or resume) training; returns the metrics dict also written to metrics.json.

    Ctrl-C (KeyboardInterrupt) saves a checkpoint first: the same call resumes. The
    run sets the global seeds and Keras' dtype policy for itself and gives back the
    caller's afterwards (devices.process_left_as_found)."""
    cfg.validate()
    from textrnn.training import devices
    with devices.process_left_as_found():
        return _train(cfg)


def _train(cfg):
    manifest = prepared.read(cfg.data_dir)
    import tensorflow as tf
    from textrnn.training.trainer import Trainer
    trainer = Trainer(cfg)
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
    reporter = reporting.Reporter(cfg.num_train_steps, start_step, trainer.metric,
                                  show_test=not manifest.test_is_val)
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
    return _finish(trainer, cfg, metrics, manifest.multi_label)


def _finish(trainer, cfg, metrics, multi_label):
    """After the recurrent model: the wide path, thresholds or calibration, metrics.json
    and the export (the chief's work); returns the metrics (None on other workers)."""
    val = None  # val's served probabilities and labels, from the models that chose on val
    if trainer.chief and cfg.wide:
        metrics, val = _add_wide_path(cfg, metrics)
    if trainer.chief and multi_label and not cfg.wide:  # the wide path chooses its own
        metrics, val = _add_thresholds(cfg, metrics)
    if trainer.chief:
        metrics = _calibrate(cfg, metrics, val)
    if trainer.chief:
        artifacts.write_json(artifacts.path(cfg.model_dir, artifacts.METRICS_FILE), metrics)
        if cfg.export:
            from textrnn.training import export
            export.export_model(cfg.model_dir)
    else:
        shutil.rmtree(trainer.out_dir, ignore_errors=True)
    trainer.barrier()
    return metrics if trainer.chief else None


def _add_thresholds(cfg, metrics):
    """A multi-label recurrent model's thresholds, chosen on val, and its scores at them;
    (metrics, val's (probabilities, 0/1 rows))."""
    from textrnn.features import data
    from textrnn.training import multilabel, predictions
    val, test = predictions.probabilities(
        cfg.model_dir, [data.split_file(cfg.data_dir, s) for s in ("val", "test")])
    return multilabel.add_thresholds(cfg.model_dir, metrics, val, test), val


def _calibrate(cfg, metrics, val=None):
    """Fit the served probabilities' temperature and keep val's calibrated scores
    (calibration.json), from which export serves prediction sets and abstaining (a
    multi-label model: the temperature of each label's probability only); the choices
    are said and recorded in metrics.json (and as comments in recipe.flags)."""
    from textrnn.features import data
    from textrnn.training import calibration, predictions
    if val is None:
        (val,) = predictions.probabilities(cfg.model_dir, [data.split_file(cfg.data_dir, "val")])
    p, labels = val
    record = calibration.Calibration.fit(p, labels, {
        name: getattr(cfg, name) for name in CONFIDENCE_FIELDS})
    record.save(cfg.model_dir)
    if record.multi_label:
        lines = [f"calibration: temperature {record.temperature:g} on each label's "
                 "probability (the lowest val log-loss); the thresholds move with it, so "
                 "every decision stays as it was"]
        chosen, scale = dict(temperature=record.temperature), calibration.temper_labels
    else:
        served = record.served()
        lines, chosen, scale = served.lines(), served.to_dict(), calibration.temper
    for line in lines:
        say(line)
    _note_in_recipe(cfg.model_dir, lines)
    from textrnn.training import metrics as scoring
    before = scoring.log_loss(p, labels, floor=calibration.TINY)
    after = scoring.log_loss(scale(p, record.temperature), labels, floor=calibration.TINY)
    return {**metrics, "calibration": {**chosen, "val_log_loss_before": round(before, 6),
                                       "val_log_loss_after": round(after, 6)}}


def _note_in_recipe(model_dir, lines, prefix="# confidence: "):
    """`lines` as comments at the end of an auto recipe's recipe.flags, replacing those of an
    earlier run of the same folder."""
    path = artifacts.path(model_dir, artifacts.RECIPE_FILE)
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as stream:
        kept = [line for line in stream if not line.startswith(prefix)]
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(kept + [f"{prefix}{line}\n" for line in lines])


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


def _add_wide_path(cfg, metrics):
    """The wide path, after the recurrent model; interrupted, it says what is kept: the
    recurrent model's checkpoints, not the wide path's work."""
    from textrnn.training.wide import mixture
    try:
        return mixture.add_wide_path(cfg, metrics)  # (metrics, val's probabilities)
    except KeyboardInterrupt:
        say("interrupted in the wide path: the recurrent model is saved and kept; run "
            "the same command again to train the wide path from its start")
        raise
