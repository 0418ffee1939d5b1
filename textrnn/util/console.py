"""Progress and status lines for people watching a run.

Plain timestamped lines on stderr, so they interleave sanely with
TensorFlow's own messages and stay readable in CI logs and files.
"""

import contextlib
import sys
import time


_quiet = 0  # how many quiet() blocks are open


def say(message):
    """A timestamped line on stderr, unless inside quiet()."""
    if not _quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def speaking():
    """Whether say() prints now (a progress bar should not draw either when it does not)."""
    return not _quiet


@contextlib.contextmanager
def quiet(silent=True):
    """Silence say() and the progress lines inside the block (TextClassifier's verbose=0)."""
    global _quiet
    _quiet += bool(silent)
    try:
        yield
    finally:
        _quiet -= bool(silent)


def eta(seconds):
    """'4m05s' style time-left text."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """'what: done/total unit, rate, about T left' lines for long work.

    A line every `every` units, or every `seconds` of wall time, whichever
    is set; with both, a line at every `every` units but never two within
    `seconds` (fast work would otherwise scroll a screenful a second). Work
    that ends before the first line is due prints nothing. Without a total,
    no estimate.
    """

    def __init__(self, what, total=None, unit="lines", every=0, seconds=0.0):
        self.what, self.total, self.unit = what, total, unit
        self.every, self.seconds = every, seconds
        self.done, self.next = 0, every
        self.start = time.monotonic()
        # with `every`, the first threshold reached prints at once
        self.last = self.start - (seconds if every else 0.0)

    def add(self, n):
        self.done += n
        now = time.monotonic()
        recent = self.seconds and now - self.last < self.seconds
        if self.every:
            if self.done < self.next:
                return
            self.next += self.every * max(1, (self.done - self.next) // self.every + 1)
            if recent:
                return
        elif not self.seconds or recent:
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        count = f"{self.done:,}/{self.total:,}" if self.total else f"{self.done:,}"
        left = (f", about {eta((self.total - self.done) / rate)} left"
                if self.total and rate > 0 and self.done < self.total else "")
        speed = f"{rate:,.0f} {self.unit}/s" if rate >= 10 else f"{60 * rate:,.1f} {self.unit}/min"
        say(f"{self.what}: {count} {self.unit}, {speed}{left}")
