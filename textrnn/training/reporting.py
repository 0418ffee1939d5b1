"""What a training run tells people and TensorBoard: progress, evaluations, metrics.json."""

import sys
import time

from textrnn.util.console import eta, say


class Reporter:
    """A progress bar on a terminal; one log line per interval elsewhere, with the time left."""

    def __init__(self, total, start):
        import keras
        self.total, self.start_step, self.started = total, start, time.monotonic()
        self.tty = sys.stderr.isatty()
        self.bar = keras.utils.Progbar(total, stateful_metrics=["loss", "accuracy"]) if self.tty else None
        if self.bar and start:
            self.bar.update(start)

    def time_left(self, step):
        done = step - self.start_step
        elapsed = time.monotonic() - self.started
        return elapsed / done * (self.total - step) if done > 0 else 0.0

    def train(self, step, loss, accuracy, rate):
        if self.bar:
            self.bar.update(step, [("loss", loss), ("accuracy", accuracy)])
        else:
            say(f"step {step}/{self.total}: loss {loss:.4f}, accuracy {accuracy:.4f}, "
                f"{rate:,.0f} examples/s, about {eta(self.time_left(step))} left")

    def message(self, text):
        if self.bar:
            sys.stderr.write("\n")
        say(text)


def log_train(writers, reporter, step, loss, accuracy, rate):
    import tensorflow as tf
    reporter.train(step, loss, accuracy, rate)
    with writers["train"].as_default(step=step):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)


def log_eval(writers, reporter, results, labels, confusion=None):
    """One line for people; scalars and the val confusion matrix (rows and columns
    in the order of `labels`) for TensorBoard."""
    import tensorflow as tf
    step = results["step"]
    with writers["eval"].as_default(step=step):
        for split in ("val", "test"):
            tf.summary.scalar(f"{split}_loss", results[split]["loss"])
            tf.summary.scalar(f"{split}_accuracy", results[split]["accuracy"])
        if confusion is not None:
            _confusion_summary(tf, labels, confusion, step)
    reporter.message(f"step {step}: val accuracy {results['val']['accuracy']:.4f} "
                     f"(loss {results['val']['loss']:.4f}), test accuracy "
                     f"{results['test']['accuracy']:.4f} (loss {results['test']['loss']:.4f})")


def _confusion_summary(tf, labels, confusion, step):
    from textrnn.util import plots
    png = plots.confusion_image(confusion, labels, f"val confusion matrix, step {step}")
    legend = "  \n".join(f"{i}: {label}" for i, label in enumerate(labels))
    tf.summary.image("val_confusion_matrix", tf.image.decode_png(png, channels=4)[None],
                     description="rows: true class, columns: predicted; cells: count and "
                                 f"share of the row. Classes:  \n{legend}")


def final_metrics(trainer, best, last_eval):
    """metrics.json: the exported (best-val) checkpoint's numbers, and the last step's."""
    cfg = trainer.cfg
    seconds = trainer.seconds
    best_step, best_val_accuracy = trainer.best
    return dict(
        global_step=trainer.step,
        val_accuracy=best["val"]["accuracy"], val_loss=best["val"]["loss"],
        test_accuracy=best["test"]["accuracy"], test_loss=best["test"]["loss"],
        best_val_accuracy=best_val_accuracy, best_step=best_step,
        val_examples=best["val"]["examples"], test_examples=best["test"]["examples"],
        final_step=dict(val_accuracy=last_eval["val"]["accuracy"], val_loss=last_eval["val"]["loss"],
                        test_accuracy=last_eval["test"]["accuracy"],
                        test_loss=last_eval["test"]["loss"]) if last_eval else None,
        train_seconds=round(seconds, 3),
        examples_per_second=round(trainer.step * cfg.batch_size / max(seconds, 1e-9), 1),
        note="val_*/test_* are those of the best-validation checkpoint, the one exported",
    )
