"""`textrnn-train`: train the classifier on a `textrnn-prepare` folder.

    textrnn-train --recipe=auto --data_dir=runs/x/prepared --model_dir=runs/x/model

Flags -> TrainConfig -> (the auto recipe) -> textrnn.training.loop.train -> the
closing lines. Running the same command again resumes an unfinished run; SIGTERM
is treated like Ctrl-C, so a killed job still saves its checkpoint.
"""

import contextlib
import os
import signal

from absl import flags

from textrnn.training import artifacts
from textrnn.training import recipe
from textrnn.training.config import TrainConfig
from textrnn.util import settings
from textrnn.util.console import say
from textrnn.util.errors import UserError, run_app


def define_flags():
    """Flags of textrnn-train: one per TrainConfig field, and two of the command line's own."""
    settings.define_flags(TrainConfig)
    flags.DEFINE_integer("num_lstm_layers", None, "Number of recurrent layers; must equal the "
                         "length of --num_lstm_nodes when given (kept for the original's flag set).")
    flags.DEFINE_enum("recipe", "none", recipe.RECIPES, "none: the flags as given (defaults: "
                      "the original's sizes); auto: choose sequence length, widths, steps, "
                      "schedule, regularisation, early stopping and the wide path from the "
                      "prepared data (printed, and written to MODEL_DIR/recipe.flags). Flags "
                      "given explicitly override its choices.")
    flags.mark_flags_as_required(["data_dir", "model_dir"])


def config_from_flags(FLAGS):
    """(TrainConfig of the flags, names of the settings given explicitly)."""
    values = settings.values(TrainConfig, FLAGS)
    if FLAGS.num_lstm_layers is not None and FLAGS.num_lstm_layers != len(values["num_lstm_nodes"]):
        raise UserError(f"--num_lstm_layers={FLAGS.num_lstm_layers} but --num_lstm_nodes has "
                        f"{len(values['num_lstm_nodes'])} sizes; give one size per layer")
    explicit = {name for name in values if FLAGS[name].present}
    return TrainConfig(**values), explicit


def main(argv):
    from textrnn.training import loop
    cfg, explicit = config_from_flags(flags.FLAGS)
    if flags.FLAGS.recipe == "auto":
        cfg = with_auto_recipe(cfg, explicit)
    cfg = recipe.vectors_width(cfg, explicit)
    with stop_on_sigterm():
        metrics = loop.train(cfg)
    if metrics is None:
        print("worker finished; the chief wrote the outputs")
        return
    print_summary(metrics, cfg.model_dir, cfg.export)


def with_auto_recipe(cfg, explicit):
    """cfg resolved by the auto recipe, each choice said and written to recipe.flags."""
    cfg, choices = recipe.resolve(cfg, explicit)
    recipe.report(choices, cfg, explicit)
    os.makedirs(cfg.model_dir, exist_ok=True)
    path = artifacts.path(cfg.model_dir, artifacts.RECIPE_FILE)
    recipe.write_flagfile(path, choices, cfg, explicit)
    say(f"auto recipe written to {path}")
    return cfg


@contextlib.contextmanager
def stop_on_sigterm():
    """Treat SIGTERM like Ctrl-C while training, so a killed job still saves its
    checkpoint; the previous handler is back afterwards."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
