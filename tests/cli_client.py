"""The test side of tests/cli_server.py: one server a test process, started on first use;
`run` runs a command to its end, `start` leaves one running (a service, a training to
interrupt)."""

import atexit
import json
import os
import pathlib
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time

from textrnn.util.startup import NOISE

_running = None


class _Server:
    def __init__(self):
        script = pathlib.Path(__file__).with_name("cli_server.py")
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.pending = b""
        self.ended = {}  # pid -> return code, of children no one has asked about yet
        self.lock = threading.Lock()
        atexit.register(self.close)

    def start(self, request):
        """Start a child for `request`; its pid."""
        with self.lock:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            while True:
                message = self._answer(time.monotonic() + 60)
                if message is None:
                    raise RuntimeError("the CLI server did not start the command")
                if "returncode" not in message:
                    return message["pid"]
                self.ended[message["pid"]] = message["returncode"]

    def returncode(self, pid, deadline):
        """The return code of child `pid` once it has ended, waiting at most until
        `deadline` (None: as long as it takes; the answer None if it runs on)."""
        with self.lock:
            while pid not in self.ended:
                message = self._answer(deadline)
                if message is None:
                    return None
                self.ended[message["pid"]] = message["returncode"]
            return self.ended.pop(pid)

    def _answer(self, deadline):
        """The server's next JSON line, waiting at most until `deadline` (None: as long as
        it takes; the answer None if not by then)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in self.pending:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not selector.select(left):
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


def _server():
    global _running
    if _running is None or _running.process.poll() is not None:
        _running = _Server()
    return _running


def without_noise(text):
    """`text` less TensorFlow's known start-up noise, as the tools' filter removes it: here
    it is printed where a child first probes for devices, after that filter's time."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.search(line))


def run(argv, stdin=None, timeout=600, cwd="."):
    """`python -m argv...` (`python argv...` when argv[0] is a .py file) in a child of the
    server: a subprocess.CompletedProcess with text output, or subprocess.TimeoutExpired
    (the child killed) past `timeout` seconds."""
    server = _server()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name) for name in ("stdin", "stdout", "stderr")}
        for path, text in zip(paths.values(), (stdin or "", "", "")):
            pathlib.Path(path).write_text(text, encoding="utf-8")
        pid = server.start({"argv": argv, "cwd": str(cwd), "env": dict(os.environ), **paths})
        returncode = server.returncode(pid, time.monotonic() + timeout)
        if returncode is None:
            os.kill(pid, signal.SIGKILL)
            server.returncode(pid, time.monotonic() + 60)
            raise subprocess.TimeoutExpired(argv, timeout)
        out = [pathlib.Path(paths[name]).read_text(encoding="utf-8")
               for name in ("stdout", "stderr")]
    return subprocess.CompletedProcess(_command(argv), returncode, out[0], without_noise(out[1]))


def _command(argv):
    return ["python", *argv] if argv[0].endswith(".py") else ["python", "-m", *argv]


class Started:
    """A command running in a child of the server, with the part of subprocess.Popen's
    interface the tests use: `pid`, `stderr` (a text stream of its lines, read while it
    runs), `poll`, `wait`, `send_signal`, `kill`, `returncode`. Its stdin is empty and
    its stdout discarded."""

    def __init__(self, argv, cwd="."):
        self.args = _command(argv)
        self._folder = tempfile.TemporaryDirectory()
        fifo = os.path.join(self._folder.name, "stderr")
        os.mkfifo(fifo)
        self._server = _server()
        self.pid = self._server.start({"argv": argv, "cwd": str(cwd), "env": dict(os.environ),
                                       "stdin": os.devnull, "stdout": os.devnull,
                                       "stderr": fifo})
        self.stderr = open(fifo, encoding="utf-8")  # returns once the child has opened it
        self.returncode = None

    def poll(self):
        return self.wait(timeout=0) if self.returncode is None else self.returncode

    def wait(self, timeout=None):
        """The return code once the command has ended; subprocess.TimeoutExpired if it
        runs on past `timeout` seconds (0: only a look, for poll, which gives None)."""
        if self.returncode is None:
            deadline = None if timeout is None else time.monotonic() + timeout
            self.returncode = self._server.returncode(self.pid, deadline)
            if self.returncode is None:
                if timeout == 0:
                    return None
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._folder.cleanup()
        return self.returncode

    def send_signal(self, signum):
        if self.returncode is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:  # ended, and its end not yet read
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)


def start(argv, cwd="."):
    """`python -m argv...` started in a child of the server and left running: a Started."""
    return Started(argv, cwd)
