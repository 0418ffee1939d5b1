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
its arguments), "cwd", "env", "stdin", "stdout",
"stderr"}: the last three are file paths); the server answers {"pid"} when the child
is started and {"returncode"} when it has ended, one JSON line each.
"""

import importlib
import json
import os
import runpy
import sys


def _child(request):
    """Become the command of `request`; never returns."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, name, mode in ((0, "stdin", os.O_RDONLY),
                               (1, "stdout", os.O_WRONLY | os.O_TRUNC),
                               (2, "stderr", os.O_WRONLY | os.O_TRUNC)):
            os.dup2(os.open(request[name], mode), fd)
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
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
