"""The prepared folder's manifest, read in one place.

textrnn-prepare (text/prepare.py) writes `manifest.json`; training, the auto
recipe and the wide path read what they need of it through `read`, which
also gives the one error for a folder that is not a prepared one.
"""

import dataclasses
import os

from textrnn.text import vocab
from textrnn.util import jsonfile
from textrnn.util.errors import UserError


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What the rest of the pipeline needs of a prepared folder's manifest.json."""
    data_dir: str
    tokenizer: str
    multi_label: bool
    label_separator: str | None
    num_classes: int
    lines: dict          # split -> number of texts
    test_is_val: bool    # no test split was given: test.txt repeats val (TextClassifier.fit)
    record: dict         # the whole manifest, as written

    @property
    def path(self):
        return os.path.join(self.data_dir, vocab.MANIFEST_FILE)


def check(data_dir):
    """Raise the UserError for a folder that is not textrnn-prepare's output."""
    if not data_dir or not os.path.isfile(os.path.join(data_dir, vocab.MANIFEST_FILE)):
        raise UserError(f"--data_dir={data_dir} is not a textrnn-prepare output folder "
                        f"(no {vocab.MANIFEST_FILE}); run textrnn-prepare first")


def read(data_dir):
    """The Manifest of a prepared folder."""
    check(data_dir)
    record = jsonfile.read(os.path.join(data_dir, vocab.MANIFEST_FILE))
    multi_label = bool(record.get("multi_label"))
    return Manifest(
        data_dir=data_dir, tokenizer=record.get("tokenizer"), multi_label=multi_label,
        label_separator=record.get("label_separator") if multi_label else None,
        num_classes=record.get("num_classes"),
        lines={name: split.get("lines") for name, split in record.get("splits", {}).items()},
        test_is_val=bool(record.get("test_is_val")), record=record)
