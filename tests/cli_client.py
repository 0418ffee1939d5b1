"""The test side of tests/cli_server.py: one server a test process, started on first use."""

import atexit
import json
import os
import pathlib
import selectors
import signal
import subprocess
import sys
import tempfile
import time

from textrnn.util.startup import NOISE

_server = None


class _Server:
    def __init__(self):
        script = pathlib.Path(__file__).with_name("cli_server.py")
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.pending = b""
        atexit.register(self.close)

    def ask(self, request):
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()

    def answer(self, deadline):
        """The server's next JSON line, waiting at most until `deadline` (None if not by then)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in self.pending:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError("the CLI server exited")
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def without_noise(text):
    """`text` less TensorFlow's known start-up noise, as the tools' filter removes it: here
    it is printed where a child first probes for devices, after that filter's time."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.search(line))


def run(argv, stdin=None, timeout=600, cwd="."):
    """`python -m argv...` (`python argv...` when argv[0] is a .py file) in a child of the
    server: a subprocess.CompletedProcess with text output, or subprocess.TimeoutExpired
    (the child killed) past `timeout` seconds."""
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = _Server()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name) for name in ("stdin", "stdout", "stderr")}
        for path, text in zip(paths.values(), (stdin or "", "", "")):
            pathlib.Path(path).write_text(text, encoding="utf-8")
        _server.ask({"argv": argv, "cwd": str(cwd), "env": dict(os.environ), **paths})
        deadline = time.monotonic() + timeout
        pid = _server.answer(time.monotonic() + 60)["pid"]
        done = _server.answer(deadline)
        if done is None:
            os.kill(pid, signal.SIGKILL)
            _server.answer(time.monotonic() + 60)
            raise subprocess.TimeoutExpired(argv, timeout)
        out = [pathlib.Path(paths[name]).read_text(encoding="utf-8")
               for name in ("stdout", "stderr")]
    command = ["python", *argv] if argv[0].endswith(".py") else ["python", "-m", *argv]
    return subprocess.CompletedProcess(command, done["returncode"], out[0],
                                       without_noise(out[1]))
