"""classifier.json: what TextClassifier records of a model it fitted, and the same
record read from any model directory (one the commands trained has none: its labels
are its categories, its settings config.json's).

    labels       [[label text, label as given to fit], ...] (strings or numbers)
    multi_label  several labels a text
    settings     every training setting the run used (the recipe resolved)
    params       the classifier's constructor arguments
    metrics      metrics.json's numbers, without test's when no test split was given
"""

import dataclasses
import os

import numpy as np

from textrnn.text import prepared
from textrnn.text import vocab
from textrnn.training import artifacts
from textrnn.util import jsonfile


@dataclasses.dataclass(frozen=True)
class Record:
    values: dict       # label text -> the label as given
    classes: np.ndarray  # the labels as given, in the model's class order
    multi_label: bool
    settings: dict
    params: dict
    metrics: dict


def write(model_dir, values, multi_label, cfg, params, metrics):
    """Write classifier.json for a run of `cfg` (a TrainConfig); returns its Record."""
    record = dict(labels=[[key, value] for key, value in values.items()],
                  multi_label=multi_label,
                  settings={k: v for k, v in dataclasses.asdict(cfg).items()
                            if k not in ("data_dir", "model_dir")},
                  params={k: v for k, v in params.items() if _jsonable(v)},
                  metrics=metrics if not prepared.read(model_dir).test_is_val
                  else _without_test(metrics))
    jsonfile.write(artifacts.path(model_dir, artifacts.CLASSIFIER_FILE), record)
    return _record(model_dir, record)


def read(model_dir):
    """The Record of any model directory (UserError when it is none)."""
    config = artifacts.read_config(model_dir)
    path = artifacts.path(model_dir, artifacts.CLASSIFIER_FILE)
    return _record(model_dir, jsonfile.read(path) if os.path.isfile(path)
                   else _of_command_run(model_dir, config))


def _record(model_dir, record):
    labels = vocab.Categories.load(artifacts.path(model_dir, vocab.CATEGORIES_FILE)).labels
    values = {key: value for key, value in record["labels"]}
    return Record(values=values, classes=as_array([values.get(l, l) for l in labels]),
                  multi_label=bool(record["multi_label"]), settings=record["settings"],
                  params=record.get("params", {}), metrics=record["metrics"])


def _of_command_run(model_dir, config):
    labels = vocab.Categories.load(artifacts.path(model_dir, vocab.CATEGORIES_FILE)).labels
    metrics_path = artifacts.path(model_dir, artifacts.METRICS_FILE)
    return dict(labels=[[label, label] for label in labels],
                multi_label=artifacts.label_separator(config) is not None,
                settings=config.get("train", {}), params={"tokenizer": config.get("tokenizer")},
                metrics=jsonfile.read(metrics_path) if os.path.isfile(metrics_path) else {})


def _without_test(value):
    """metrics without test's numbers (at any depth): test only repeated val."""
    if isinstance(value, dict):
        return {k: _without_test(v) for k, v in value.items() if not str(k).startswith("test_")}
    return value


def as_array(values):
    """Labels as a numpy array: str or int64 when they all are, else objects (tuples)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    if values and all(isinstance(v, str) for v in values):
        return out.astype(str)
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return out.astype(np.int64)
    return out


def _jsonable(value):
    return isinstance(value, (str, int, float, bool, type(None), list, tuple))
