"""Progress and status lines for people watching a run.

Plain timestamped lines on stderr, so they interleave sanely with
TensorFlow's own messages and stay readable in CI logs and files.
"""

import sys
import time


def say(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
