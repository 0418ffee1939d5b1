"""JSON files: written atomically (a reader never sees half a file), read with an error
that names the file and line."""

import json
import os
import tempfile

from textrnn.util.errors import UserError


def write(file_path, value):
    """Write `value` as indented UTF-8 JSON, atomically."""
    directory = os.path.dirname(os.path.abspath(file_path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, indent=2)
        out.write("\n")
    os.replace(tmp, file_path)


def read(file_path):
    """The JSON value of a file; a UserError when it is missing or not JSON."""
    if not os.path.isfile(file_path):
        raise UserError(f"{file_path}: missing")
    with open(file_path, encoding="utf-8") as stream:
        try:
            return json.load(stream)
        except json.JSONDecodeError as error:
            raise UserError(f"{file_path}:{error.lineno}: not valid JSON ({error.msg})") from None
