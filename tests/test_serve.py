"""textrnn-serve: TensorFlow Serving's REST API, bad input, concurrency, lifecycle.

Each service runs as a process of its own on a free loopback port (the process
boundary is what these tests are about: a request must never end it), forked
from one that has TensorFlow imported (tests/cli_server.py), and every test
that starts one stops it, also when the test fails.
"""

import base64
import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

import cli_client
from conftest import DEMO, ROOT, run_cli

# serving_default's outputs for a single-label model that training calibrated
SERVED_OUTPUTS = {"label", "class_id", "probabilities", "unknown_share", "label_set",
                  "set_size", "confidence", "abstain"}


def demo_texts(split="test", count=None):
    lines = (DEMO / f"{split}.txt").read_text(encoding="utf-8").splitlines()[:count]
    return [line.split("\t", 1)[1] for line in lines]


class Service:
    """`python -m textrnn.serve FLAGS --port=0` and a small client for it."""

    def __init__(self, *flags, port=0):
        self.process = cli_client.start(["textrnn.serve", f"--port={port}", *map(str, flags)],
                                        cwd=ROOT)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(re.search(r"at http://127\.0\.0\.1:(\d+)",
                                  self.wait_for("serving ")).group(1))

    def _read(self):
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)

    def wait_for(self, text, timeout=120):
        """The next stderr line containing `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r}; the service said:\n{''.join(self.log)}")

    def call(self, method, path, body=None, headers=None, timeout=120, sent=None):
        """(status, parsed JSON body) of one request; `sent` (a threading.Event) is set
        once the whole request has been sent, before the answer is read."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if body is not None and not isinstance(body, bytes):
                body = json.dumps(body, ensure_ascii=False).encode("utf-8")
            connection.request(method, path, body=body, headers=headers or {})
            if sent is not None:
                sent.set()
            response = connection.getresponse()
            payload = response.read()
            assert response.getheader("Content-Type", "").startswith("application/json"), payload
            return response.status, json.loads(payload)
        finally:
            connection.close()

    def predict(self, body, model="textrnn"):
        return self.call("POST", f"/v1/models/{model}:predict", body)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def start():
    """start(*flags) -> a running Service; every one is stopped after the test."""
    started = []

    def starter(*flags, port=0):
        started.append(Service(*flags, port=port))
        return started[-1]

    yield starter
    for service in started:
        service.stop()


@pytest.fixture(scope="module")
def service(trained_model):
    """One service of the demo model for the tests that only send requests."""
    running = Service(f"--model_dir={trained_model[0]}", "--max_request_mb=4")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def in_process(trained_model):
    return tf.saved_model.load(str(trained_model[0] / "export")).signatures


def test_row_format_answers_what_the_signature_gives(service, in_process):
    texts = demo_texts(count=5)
    status, body = service.predict({"instances": texts})
    expected = in_process["serving_default"](text=tf.constant(texts))
    assert status == 200 and len(body["predictions"]) == 5
    assert set(body["predictions"][0]) == SERVED_OUTPUTS
    np.testing.assert_allclose([p["probabilities"] for p in body["predictions"]],
                               expected["probabilities"].numpy(), atol=1e-6)
    assert [p["label"] for p in body["predictions"]] == \
        [label.decode() for label in expected["label"].numpy()]
    # the confidence outputs as the signature gives them: sets padded with empty strings
    assert [p["label_set"] for p in body["predictions"]] == \
        [[label.decode() for label in row] for row in expected["label_set"].numpy()]
    assert [p["abstain"] for p in body["predictions"]] == expected["abstain"].numpy().tolist()
    assert [p["class_id"] for p in body["predictions"]] == expected["class_id"].numpy().tolist()


def test_columnar_format_answers_one_list_per_output(service):
    texts = demo_texts(count=3)
    _, rows = service.predict({"instances": texts})
    status, body = service.predict({"inputs": texts})
    assert status == 200 and set(body) == {"outputs"}
    assert body["outputs"]["label"] == [p["label"] for p in rows["predictions"]]
    status, named = service.predict({"inputs": {"text": texts}})
    assert status == 200 and named == body


def test_named_and_base64_instances_read_as_the_same_text(service):
    text = demo_texts(count=1)[0]
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    _, plain = service.predict({"instances": [text]})
    for instance in ({"text": text}, {"b64": encoded}, {"text": {"b64": encoded}}):
        status, body = service.predict({"instances": [instance]})
        assert status == 200 and body == plain, instance


def test_tokenize_signature_gives_each_text_its_own_tokens(service, in_process):
    texts = ["国家队在世界杯预选赛中取胜", "股市"]
    status, body = service.predict({"signature_name": "tokenize", "instances": texts})
    tokens = in_process["tokenize"](text=tf.constant(texts))["tokens"].numpy()
    assert status == 200
    assert body["predictions"] == [[t.decode() for t in row] for row in tokens]


def test_explain_signature_lists_each_texts_own_units(service, trained_model):
    from textrnn.serving.inference import Predictor
    texts = ["国家队在世界杯预选赛中以2比0取胜", "股市"]
    status, body = service.predict({"signature_name": "explain", "instances": texts})
    assert status == 200, body
    expected = list(Predictor(str(trained_model[0] / "export")).explain(texts))
    for row, e in zip(body["predictions"], expected):
        assert row["tokens"] == [u.token for u in e.units] and row["num_tokens"] == len(e.units)
        assert row["token_starts"] == [u.start for u in e.units]
        assert row["attributions"] == pytest.approx([u.attribution for u in e.units], abs=1e-5)
        assert row["label"] == e.label and len(row["class_attributions"]) == len(e.units)


def test_model_status_and_version_status(service):
    ok = {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                    "status": {"error_code": "OK", "error_message": ""}}]}
    assert service.call("GET", "/v1/models/textrnn") == (200, ok)
    assert service.call("GET", "/v1/models/textrnn/versions/1") == (200, ok)
    status, body = service.call("GET", "/v1/models/textrnn/versions/2")
    assert status == 404 and "Specific(textrnn, 2)" in body["error"]
    status, body = service.call("GET", "/v1/models/other")
    assert status == 404 and "other" in body["error"]


def test_metadata_nests_the_signature_defs_as_tf_serving_does(service):
    status, body = service.call("GET", "/v1/models/textrnn/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "textrnn", "signature_name": "", "version": "1"}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict"
    assert default["inputs"]["text"]["dtype"] == "DT_STRING"
    assert default["inputs"]["text"]["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    assert set(default["outputs"]) == SERVED_OUTPUTS
    assert set(signatures["tokenize"]["outputs"]) == {"tokens"}
    assert service.call("GET", "/v1/models/textrnn/versions/1/metadata")[1] == body


BAD_REQUESTS = {
    "malformed JSON": (b'{"instances": [', 400, "not valid JSON"),
    "empty body": (b"", 400, "empty"),
    "not an object": (b'["a"]', 400, "JSON object"),
    "neither instances nor inputs": ({"signature_name": "serving_default"}, 400, "exactly one"),
    "both instances and inputs": ({"instances": ["a"], "inputs": ["a"]}, 400, "exactly one"),
    "a number": ({"instances": ["a", 3]}, 400, "instances[1]"),
    "null": ({"instances": [None]}, 400, "instances[0]: expected a text"),
    "nested list": ({"instances": [["a"]]}, 400, "instances[0]"),
    "instances not a list": ({"instances": "a"}, 400, "instances: expected a list"),
    "unknown input name": ({"instances": [{"sentence": "a"}]}, 400, "unknown input 'sentence'"),
    "unknown columnar input": ({"inputs": {"sentence": ["a"]}}, 400, "unknown input"),
    "empty instances": ({"instances": []}, 400, "empty"),
    "empty inputs": ({"inputs": []}, 400, "empty"),
    "invalid UTF-8": (b'{"instances": ["\xff\xfe"]}', 400, "not UTF-8"),
    "lone surrogate": (b'{"instances": ["\\ud800"]}', 400, "instances[0]: not valid Unicode"),
    "bad base64": ({"instances": [{"b64": "%%%"}]}, 400, "instances[0].b64"),
    "deep nesting": (b"[" * 100000 + b"]" * 100000, 400, "nested too deeply"),
    "unknown field": ({"instances": ["a"], "extra": 1}, 400, "unknown field 'extra'"),
    "signature_name not a string": ({"signature_name": 1, "instances": ["a"]}, 400,
                                    "signature_name"),
    "unknown signature": ({"signature_name": "nope", "instances": ["a"]}, 404, "'nope'"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_a_bad_request_gets_a_json_error_and_the_service_lives_on(service, case):
    body, status, words = BAD_REQUESTS[case]
    got, reply = service.predict(body)
    assert (got, set(reply)) == (status, {"error"}) and words in reply["error"], reply
    assert service.predict({"instances": ["股市"]})[0] == 200


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 404), ("GET", "/v1/models", 404), ("POST", "/v1/models/textrnn", 405),
    ("GET", "/v1/models/textrnn:predict", 405), ("DELETE", "/v1/models/textrnn", 405),
    ("POST", "/v1/models/textrnn:classify", 400), ("POST", "/v1/models/other:predict", 404),
    ("POST", "/v1/models/textrnn/versions/9:predict", 404),
    ("GET", "/v1/models/textrnn/versions/one", 400)])
def test_an_unknown_path_or_method_gets_a_json_error(service, method, path, status):
    got, reply = service.call(method, path, b'{"instances": ["a"]}' if method == "POST" else None)
    assert got == status and set(reply) == {"error"}


def test_a_body_over_the_limit_gets_413(service):
    status, reply = service.predict({"instances": ["股" * (2 * 2**20)]})  # 6 MB > 4 MB
    assert status == 413 and "--max_request_mb" in reply["error"]
    assert service.predict({"instances": ["股市"]})[0] == 200


def test_a_one_megabyte_text_is_answered(service):
    text = "".join(demo_texts("train"))
    text = (text * (2**20 // len(text.encode()) + 1)).encode()[:2**20].decode(errors="ignore")
    status, body = service.predict({"instances": [text, "股市"]})
    assert status == 200 and len(body["predictions"]) == 2


def test_ten_thousand_texts_in_one_request_are_answered_in_order(service, in_process):
    texts = (demo_texts("train") * 20)[:10000]
    status, body = service.predict({"instances": texts})
    assert status == 200 and len(body["predictions"]) == 10000
    expected = in_process["serving_default"](text=tf.constant(texts[:300]))["class_id"].numpy()
    assert [p["class_id"] for p in body["predictions"][:300]] == expected.tolist()


def test_concurrent_clients_each_get_the_answer_for_their_own_text(service, in_process):
    texts = demo_texts("train", 400)
    expected = in_process["serving_default"](text=tf.constant(texts))["probabilities"].numpy()
    answers, failures = {}, []

    def client(offset):
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
        for i in range(offset, len(texts), 16):
            connection.request("POST", "/v1/models/textrnn:predict",
                               json.dumps({"instances": [texts[i]]}).encode())
            response = connection.getresponse()
            body = json.loads(response.read())
            if response.status != 200:
                failures.append(body)
            else:
                answers[i] = body["predictions"][0]["probabilities"]
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and len(answers) == len(texts)
    np.testing.assert_allclose([answers[i] for i in range(len(texts))], expected, atol=1e-5)


def large_request_texts(megabytes=3.5):
    """Demo texts, repeated, as many as fit in a request of `megabytes`."""
    texts, size = [], 0
    for text in demo_texts("train") * 100:
        size += len(json.dumps(text)) + 2
        if size > megabytes * 2**20:
            return texts
        texts.append(text)
    return texts


def send_large_request(service):
    """Start one request of 3.5 MB of texts in a thread; returns (thread, result) once
    the whole request is sent, so the service holds it: result gets the status and the
    time the answer came."""
    texts, result, sent = large_request_texts(), {}, threading.Event()

    def large():
        result["status"] = service.call("POST", "/v1/models/textrnn:predict",
                                        {"instances": texts}, sent=sent)[0]
        result["at"] = time.monotonic()

    worker = threading.Thread(target=large)
    worker.start()
    assert sent.wait(timeout=120), "the large request was never sent"
    return worker, result


def test_status_answers_while_a_large_batch_runs(service):
    worker, result = send_large_request(service)
    assert service.call("GET", "/v1/models/textrnn")[0] == 200
    answered = time.monotonic()
    worker.join()
    assert result["status"] == 200 and answered < result["at"]


def test_the_start_up_line_holds_a_curl_command_that_works(trained_model, start):
    served = start(f"--model_dir={trained_model[0]}")
    line = "".join(served.log)
    command = re.search(r"curl -d '(.*)' (http://\S+)", line)
    assert command, line
    body, url = command.groups()
    if shutil.which("curl"):
        out = subprocess.run(["curl", "-s", "-d", body, url], capture_output=True, text=True,
                             timeout=60)
        reply = json.loads(out.stdout)
    else:
        status, reply = served.call("POST", url.split(str(served.port), 1)[1], body.encode())
    assert len(reply["predictions"]) == 1 and "label" in reply["predictions"][0]


def test_sigterm_finishes_the_requests_in_flight_and_exits_0(trained_model, start):
    served = start(f"--model_dir={trained_model[0]}")
    worker, result = send_large_request(served)
    # Sent is not yet taken: the whole body fits the loopback's socket buffers, and a
    # connection still in the listening socket's queue is closed unanswered at SIGTERM
    # (as by any server that stops listening); nothing the service says marks the accept.
    time.sleep(1.0)
    signalled = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    served.wait_for("stopping")
    assert served.process.wait(timeout=120) == 0
    worker.join()
    assert result["status"] == 200 and result["at"] > signalled  # it was in flight
    with pytest.raises(OSError):
        served.call("GET", "/v1/models/textrnn", timeout=5)


def _copy_version(export_dir, base, version):
    """Write BASE/version as writers must: complete, then renamed into place."""
    tmp = base / f".{version}.tmp-copy"
    shutil.copytree(export_dir, tmp)
    os.rename(tmp, base / str(version))


def test_a_new_version_is_served_without_failing_a_request(trained_model, start, tmp_path):
    export_dir = trained_model[0] / "export"
    base = tmp_path / "base"
    base.mkdir()
    _copy_version(export_dir, base, 1)
    served = start(f"--model_base_path={base}", "--file_system_poll_wait_seconds=0.2")
    failures, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            status, body = served.predict({"instances": ["股市"]})
            if status != 200:
                failures.append(body)

    worker = threading.Thread(target=client)
    worker.start()
    try:
        (base / "3").mkdir()  # incomplete (no saved_model.pb yet): never loaded
        _copy_version(export_dir, base, 2)
        served.wait_for("serving version 2")  # the poll that took 2 passed over 3
        assert served.call("GET", "/v1/models/textrnn")[1]["model_version_status"][0][
            "version"] == "2"
        assert served.call("GET", "/v1/models/textrnn/versions/2")[0] == 200
        assert served.call("GET", "/v1/models/textrnn/versions/1")[0] == 404
        (base / "4").mkdir()
        (base / "4" / "saved_model.pb").write_bytes(b"not a SavedModel")
        served.wait_for("cannot load this version")
        for _ in range(5):  # the broken version took nothing down
            assert served.predict({"instances": ["股市"]})[0] == 200
    finally:
        stop.set()
        worker.join()
    assert not failures
    assert served.call("GET", "/v1/models/textrnn/versions/2/metadata")[0] == 200
    assert served.process.poll() is None


def test_after_kill_9_a_restart_serves_again(trained_model, start):
    first = start(f"--model_dir={trained_model[0]}")
    port = first.port
    first.process.kill()
    first.process.wait()
    again = start(f"--model_dir={trained_model[0]}", port=port)
    assert again.port == port and again.predict({"instances": ["股市"]})[0] == 200


def test_a_model_that_reads_segmented_text_is_sent_raw_text(hmm_model, start):
    from textrnn.text import tokenize
    export_dir = hmm_model / "model" / "export"
    served = start(f"--saved_model={export_dir}")
    text = "小明硕士毕业于中国科学院计算所"
    status, body = served.predict({"signature_name": "tokenize", "instances": [text]})
    assert status == 200
    assert [t for t in body["predictions"][0] if t] == tokenize.jieba_tokens(text, hmm=True)
    expected = tf.saved_model.load(str(export_dir)).signatures["serving_default"](
        text=tf.constant([" ".join(tokenize.jieba_tokens(text, hmm=True))]))
    np.testing.assert_allclose(served.predict({"instances": [text]})[1]["predictions"][0][
        "probabilities"], expected["probabilities"].numpy()[0], atol=1e-6)


@pytest.mark.parametrize("flags, words", [
    ((), "exactly one of"),
    (("--saved_model=nowhere",), "no SavedModel"),
    (("--model_base_path=nowhere",), "no version folder"),
    (("--saved_model=x", "--max_batch_size=0"), "--max_batch_size")])
def test_a_bad_start_is_one_error_line(flags, words):
    result = run_cli("serve", *flags, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert words in result.stderr.strip().splitlines()[-1]
