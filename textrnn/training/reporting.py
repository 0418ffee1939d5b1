"""What a training run tells people and TensorBoard: progress, evaluations, metrics.json."""

import sys
import time

from textrnn.util.console import eta, say, speaking

METRIC_NAMES = {"accuracy": "accuracy", "micro_f1": "micro-F1"}  # Trainer.metric -> words


class Reporter:
    """A progress bar on a terminal; one log line per interval elsewhere, with the time left."""

    def __init__(self, total, start, metric="accuracy", show_test=True):
        import keras
        self.total, self.start_step, self.started = total, start, time.monotonic()
        self.show_test = show_test  # False when test only repeats val (no test was given)
        self.metric = metric
        self.tty = sys.stderr.isatty() and speaking()
        self.bar = keras.utils.Progbar(total, stateful_metrics=["loss", metric]) if self.tty else None
        if self.bar and start:
            self.bar.update(start)

    def time_left(self, step):
        done = step - self.start_step
        elapsed = time.monotonic() - self.started
        return elapsed / done * (self.total - step) if done > 0 else 0.0

    def train(self, step, loss, score, rate):
        if self.bar:
            self.bar.update(step, [("loss", loss), (self.metric, score)])
        else:
            say(f"step {step}/{self.total}: loss {loss:.4f}, {METRIC_NAMES[self.metric]} "
                f"{score:.4f}, "
                f"{rate:,.0f} examples/s, about {eta(self.time_left(step))} left")

    def message(self, text):
        if self.bar:
            sys.stderr.write("\n")
        say(text)


def log_train(writers, reporter, step, loss, score, rate):
    import tensorflow as tf
    reporter.train(step, loss, score, rate)
    with writers["train"].as_default(step=step):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar(reporter.metric, score)


def log_eval(writers, reporter, results, labels, confusion=None, metric="accuracy"):
    """One line for people; scalars and the val confusion matrix (rows and columns
    in the order of `labels`) for TensorBoard."""
    import tensorflow as tf
    step, name = results["step"], METRIC_NAMES[metric]
    with writers["eval"].as_default(step=step):
        for split in ("val", "test"):
            tf.summary.scalar(f"{split}_loss", results[split]["loss"])
            tf.summary.scalar(f"{split}_{metric}", results[split][metric])
        if confusion is not None:
            _confusion_summary(tf, labels, confusion, step)
    test = (f", test {name} {results['test'][metric]:.4f} (loss {results['test']['loss']:.4f})"
            if reporter.show_test else "")
    reporter.message(f"step {step}: val {name} {results['val'][metric]:.4f} "
                     f"(loss {results['val']['loss']:.4f}){test}")


def _confusion_summary(tf, labels, confusion, step):
    from textrnn.util import plots
    png = plots.confusion_image(confusion, labels, f"val confusion matrix, step {step}")
    legend = "  \n".join(f"{i}: {label}" for i, label in enumerate(labels))
    tf.summary.image("val_confusion_matrix", tf.image.decode_png(png, channels=4)[None],
                     description="rows: true class, columns: predicted; cells: count and "
                                 f"share of the row. Classes:  \n{legend}")


def final_metrics(trainer, best, last_eval):
    """metrics.json: the exported (best-val) checkpoint's numbers, and the last step's."""
    cfg, m = trainer.cfg, trainer.metric  # m: accuracy, or micro_f1 (at 0.5) for several labels
    seconds = trainer.seconds
    best_step, best_val = trainer.best
    return {
        "global_step": trainer.step,
        f"val_{m}": best["val"][m], "val_loss": best["val"]["loss"],
        f"test_{m}": best["test"][m], "test_loss": best["test"]["loss"],
        f"best_val_{m}": best_val, "best_step": best_step,
        "val_examples": best["val"]["examples"], "test_examples": best["test"]["examples"],
        "final_step": {f"val_{m}": last_eval["val"][m], "val_loss": last_eval["val"]["loss"],
                       f"test_{m}": last_eval["test"][m],
                       "test_loss": last_eval["test"]["loss"]} if last_eval else None,
        "train_seconds": round(seconds, 3),
        "examples_per_second": round(trainer.step * cfg.batch_size / max(seconds, 1e-9), 1),
        "note": "val_*/test_* are those of the best-validation checkpoint, the one exported",
    }
