"""Run textrnn's command-line tools as fresh processes, without paying TensorFlow's import
for each one.

Importing TensorFlow costs a CLI test several seconds of CPU, most of the time of a
test that predicts a few texts. This server imports it once, before running any
TensorFlow op, then forks a child for every command: each child is a new process (its
own flags, stdin, stdout, stderr, exit status and environment), started from a process
that has TensorFlow loaded. Tests whose subject is what happens while TensorFlow is
imported (its start-up output, variables it reads at import) start a real interpreter
instead (`conftest.run_cli` does so whenever a test sets environment variables).

Protocol: one JSON request a line on stdin ({"argv" (a module, or a script's path, and
its arguments), "cwd", "env", "stdin", "stdout", "stderr"}: the last three are file
paths, a FIFO for output read while the command runs); the server answers {"pid"} when
the child is started and {"pid", "returncode"} whenever one has ended, one JSON line
each. Children run side by side: a long-lived one (a service) does not hold up the next.
"""

import importlib
import json
import os
import runpy
import selectors
import signal
import sys


def _child(request):
    """Become the command of `request`; never returns."""
    code = 1
    try:
        # the output first: a FIFO's reader waits for this open, whatever fails after it
        for fd, name, mode in ((0, "stdin", os.O_RDONLY),
                               (1, "stdout", os.O_WRONLY | os.O_TRUNC),
                               (2, "stderr", os.O_WRONLY | os.O_TRUNC)):
            os.dup2(os.open(request[name], mode), fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        target, *args = request["argv"]
        sys.argv = [target, *args]
        try:
            if target.endswith(".py"):  # `python script.py`
                sys.path[0] = os.path.dirname(os.path.abspath(target))
                runpy.run_path(target, run_name="__main__")
            else:  # `python -m module`
                sys.path[0] = request["cwd"]
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            if isinstance(done.code, str):
                print(done.code, file=sys.stderr)
        except BaseException:  # what the interpreter would print for an uncaught error
            import traceback
            traceback.print_exc()
            code = 1
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve():
    # the commands' environment defaults first: they must precede TensorFlow's import
    from textrnn.util import startup
    startup.command_environment()
    for name in ("textrnn", "jieba", "keras", "tensorflow"):
        importlib.import_module(name)
    from textrnn.text import tokenize
    tokenize.jieba_tokenizer()  # jieba's dictionary: each command that cuts words loads it
    ended_r, ended_w = os.pipe()  # a byte on every SIGCHLD wakes the loop
    os.set_blocking(ended_w, False)
    signal.set_wakeup_fd(ended_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "request")
    selector.register(ended_r, selectors.EVENT_READ, "ended")
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.data == "ended":
                os.read(ended_r, 4096)
                _answer_ended()
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                _start(json.loads(line), (ended_r, ended_w))


def _start(request, wakeup_fds):
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wakeup_fds:
            os.close(fd)
        _child(request)
    _answer({"pid": pid})


def _answer_ended():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _answer({"pid": pid, "returncode": os.waitstatus_to_exitcode(status)})


def _answer(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    serve()
