"""TensorFlow Serving's REST bodies: a predict request's texts, and the replies.

Pure functions over bytes, dicts and numpy arrays, so every rule is tested
without a server. The formats are those of TensorFlow Serving's REST API
(`api_rest.md`):

- row format: `{"instances": [...]}` -> `{"predictions": [...]}`, one entry a
  text: the text itself (`"..."`), `{"b64": "..."}` (its UTF-8 bytes in
  base64) or an object naming the input (`{"text": "..."}`). The reply has one
  object a text with every output of the signature, or the bare value when
  the signature has one output.
- columnar format: `{"inputs": [...]}` or `{"inputs": {"text": [...]}}` ->
  `{"outputs": {name: [...]}}`, or the bare list for a one-output signature.

A request that breaks a rule raises RequestError with the HTTP status and a
message that names the offending field (`instances[3]`), sent as
`{"error": "..."}`.
"""

import base64
import binascii
import json

import numpy as np

from textrnn.util.saved_model import DEFAULT_SIGNATURE, UNIT_OUTPUTS


class RequestError(Exception):
    """A request the service answers with `status` and `{"error": message}`."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message):
    return RequestError(400, message)


def parse_body(body):
    """The JSON object of a request body (bytes)."""
    if not body.strip():
        raise bad_request("the request body is empty; send a JSON object such as "
                          '{"instances": ["some text"]}')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_request(f"the request body is not UTF-8 (byte {error.start}: "
                          f"{body[error.start:error.start + 1]!r})") from None
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad_request(f"the request body is not valid JSON: {error.msg} at line "
                          f"{error.lineno} column {error.colno}") from None
    except RecursionError:
        raise bad_request("the request body is nested too deeply to be a predict request") \
            from None
    if not isinstance(request, dict):
        raise bad_request(f"the request body must be a JSON object, not {_kind(request)}")
    return request


def signature_name(request):
    """The signature a predict request names (default: serving_default)."""
    name = request.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(name, str):
        raise bad_request(f"signature_name: expected a string, got {_kind(name)}")
    return name


def predict_texts(request, input_name):
    """(texts, columnar) of a predict request whose signature reads `input_name`."""
    unknown = sorted(set(request) - {"signature_name", "instances", "inputs"})
    if unknown:
        raise bad_request(f"unknown field {unknown[0]!r} in the request; a predict request "
                          'has "instances" (row format) or "inputs" (columnar format) and '
                          'optionally "signature_name"')
    if ("instances" in request) == ("inputs" in request):
        raise bad_request('give exactly one of "instances" (row format) and "inputs" '
                          "(columnar format)" + ("" if "inputs" in request else
                                                 ', e.g. {"instances": ["some text"]}'))
    if "instances" in request:
        return _instances(request["instances"], input_name), False
    return _inputs(request["inputs"], input_name), True


def _instances(instances, input_name):
    if not isinstance(instances, list):
        raise bad_request(f"instances: expected a list of texts, got {_kind(instances)}")
    if not instances:
        raise bad_request("instances: the list is empty; send at least one text")
    texts = []
    for i, instance in enumerate(instances):
        field = f"instances[{i}]"
        if isinstance(instance, dict) and "b64" not in instance:
            instance = _named(instance, input_name, field)
            field += f".{input_name}"
        texts.append(_text(instance, field))
    return texts


def _named(instance, input_name, field):
    """The value of `input_name` in a row-format object."""
    others = sorted(set(instance) - {input_name})
    if others:
        raise bad_request(f"{field}: unknown input {others[0]!r}; the signature's only "
                          f"input is {input_name!r}")
    if input_name not in instance:
        raise bad_request(f"{field}: the object has no {input_name!r}")
    return instance[input_name]


def _inputs(inputs, input_name):
    field = "inputs"
    if isinstance(inputs, dict) and "b64" not in inputs:
        inputs = _named(inputs, input_name, field)
        field += f".{input_name}"
    if not isinstance(inputs, list):
        raise bad_request(f"{field}: expected a list of texts (the signature's input is a "
                          f"batch of strings), got {_kind(inputs)}")
    if not inputs:
        raise bad_request(f"{field}: the list is empty; send at least one text")
    return [_text(value, f"{field}[{i}]") for i, value in enumerate(inputs)]


def _text(value, field):
    """A text from a JSON string or a {"b64": ...} object; valid Unicode only."""
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise bad_request(f'{field}: an object here must be {{"b64": "<base64 of the '
                              'text\'s UTF-8 bytes>"}')
        try:
            value = base64.b64decode(value["b64"], validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise bad_request(f"{field}.b64: not base64 of UTF-8 text") from None
    if not isinstance(value, str):
        raise bad_request(f"{field}: expected a text (a JSON string), got {_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise bad_request(f"{field}: not valid Unicode (a lone surrogate "
                          f"{value[error.start]!r} at character {error.start})") from None
    return value


def _kind(value):
    """How a JSON value is called in messages."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def to_json(array):
    """A numpy output as JSON values: strings decoded from UTF-8, numbers as numbers."""
    values = np.asarray(array).tolist()
    return _decode(values) if np.asarray(array).dtype.kind in "OSU" else values


def _decode(values):
    if isinstance(values, list):
        return [_decode(v) for v in values]
    return values.decode("utf-8", "replace") if isinstance(values, bytes) else values


def predict_reply(outputs, columnar):
    """The reply body of a predict request, from {output name: array [batch, ...]}. The
    explain signature's unit outputs list each text's own units only (its rows are
    padded to the batch's longest, which depends on what it was batched with)."""
    names = sorted(outputs)
    columns = {name: to_json(outputs[name]) for name in names}
    if "num_tokens" in outputs:
        for name in set(UNIT_OUTPUTS) & set(names):
            columns[name] = [to_json(row[:n]) for row, n in zip(outputs[name],
                                                                 outputs["num_tokens"])]
    if columnar:
        return {"outputs": columns[names[0]] if len(names) == 1 else columns}
    if len(names) == 1:
        return {"predictions": columns[names[0]]}
    rows = len(columns[names[0]])
    return {"predictions": [{name: columns[name][i] for name in names} for i in range(rows)]}


def version_status(versions):
    """GET /v1/models/NAME[/versions/N]: the versions served, all AVAILABLE."""
    return {"model_version_status": [
        {"version": str(v), "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}} for v in versions]}


def metadata(name, version, signature_defs):
    """GET .../metadata, nested as TensorFlow Serving nests it."""
    return {"model_spec": {"name": name, "signature_name": "", "version": str(version)},
            "metadata": {"signature_def": {"signature_def": signature_defs}}}


def not_found(name, version=None):
    """TensorFlow Serving's words for a model or version it does not serve."""
    what = f"Latest({name})" if version is None else f"Specific({name}, {version})"
    return RequestError(404, f"Servable not found for request: {what}")
