"""Texts and labels handed over from Python (lists, numpy arrays, pandas Series):
checked, with errors that name the position (and a Series' index label), and
turned into formats.Records, the same records a labelled file gives.

TextClassifier raises these errors as ValueError, scikit-learn's convention.
"""

import math

import numpy as np

from textrnn.text import formats


def pair(data, name):
    """`data` when it is a (texts, labels) pair."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name} must be a pair (texts, labels)")
    return data


def items(values, name):
    """(list of values, their index labels or None) of a list, array or pandas Series."""
    index = None
    if hasattr(values, "index") and hasattr(values, "iloc"):  # a pandas Series
        index = list(values.index)
        values = values.tolist()
    elif isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}")
        values = values.tolist()
    elif isinstance(values, str) or not hasattr(values, "__len__"):
        raise ValueError(f"{name} must be a sequence of texts (a list, array or Series), got "
                         f"{type(values).__name__}")
    return list(values), index


def at(i, index):
    return f"position {i}" + (f" (index {index[i]!r})" if index is not None else "")


def checked_texts(X, name):
    """The texts of X as a list of strings."""
    texts, index = items(X, name)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"{name} at {at(i, index)} is a {type(text).__name__}, not a "
                             "string")
    return texts


def checked_pairs(X, y, x_name, y_name):
    """(texts, labels) as lists: as many of each, no empty text, no missing label."""
    texts, index = items(X, x_name)
    labels, _ = items(y, y_name)
    if len(texts) != len(labels):
        raise ValueError(f"{x_name} has {len(texts)} texts but {y_name} has {len(labels)} "
                         "labels")
    if not texts:
        raise ValueError(f"{x_name} is empty")
    for i, (text, label) in enumerate(zip(texts, labels)):
        if not isinstance(text, str) or not text.strip():
            what = "an empty string" if isinstance(text, str) else f"a {type(text).__name__}"
            raise ValueError(f"{x_name} at {at(i, index)} is {what}, not a non-empty text")
        if _missing(label):
            raise ValueError(f"{y_name} at {at(i, index)} is missing ({label!r})")
    return texts, labels


def _missing(label):
    if label is None:
        return True
    if isinstance(label, float) and math.isnan(label):
        return True
    return isinstance(label, (list, tuple)) and not label


def label_values(labels, multi):
    """{label text: the label as given}: labels are strings or whole numbers; a text key
    stands for each (what the model's files hold)."""
    values = {}
    for i, label in enumerate(labels):
        for item in (label if isinstance(label, (list, tuple)) else [label]):
            if isinstance(item, np.generic):
                item = item.item()
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise ValueError(f"y at position {i}: the label {item!r} is a "
                                 f"{type(item).__name__}; labels are strings or whole numbers"
                                 + ("" if multi else ", or lists of them for several labels "
                                    "a text"))
            key = str(item).strip()
            if values.setdefault(key, item) != item:
                raise ValueError(f"y holds both {values[key]!r} and {item!r}, which read the "
                                 "same as text; use one of them")
    return values


def records(texts, labels, multi, name):
    """formats.Records of checked texts and labels, named by position for messages."""
    out = []
    for i, (text, label) in enumerate(zip(texts, labels)):
        items = label if isinstance(label, (list, tuple)) else [label]
        keys = tuple(str(item.item() if isinstance(item, np.generic) else item).strip()
                     for item in items)
        if len(set(keys)) < len(keys):
            raise ValueError(f"y at position {i}: a label given twice in {label!r}")
        out.append(formats.Record(keys, formats.one_line(text), name, i))
    return out


def pair_records(data, name, multi):
    """formats.Records of a (texts, labels) pair such as validation_data."""
    texts, labels = checked_pairs(*pair(data, name), f"{name}[0]", f"{name}[1]")
    label_values(labels, multi)
    return records(texts, labels, multi, f"{name}[0]")


def hold_out(records, fraction, seed):
    """(train, val) records: `fraction` of each class held out for validation, seeded."""
    from textrnn.util.console import say
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction={fraction}: a share between 0 and 1 "
                         "(or give validation_data)")
    counts = {}
    for record in records:
        counts[record.labels[0]] = counts.get(record.labels[0], 0) + 1
    small = sorted(label for label, n in counts.items() if n < 2)
    if small:
        raise ValueError(f"the class {small[0]!r} has a single text: too few to hold one "
                         "out for validation; add texts of it, drop it, or give "
                         "validation_data" + (f" ({len(small)} classes have one text)"
                                              if len(small) > 1 else ""))
    parts = formats.split_stratified(records, (1.0 - fraction, fraction, 0.0), seed)
    if not parts["val"]:
        raise ValueError(f"validation_fraction={fraction} holds out no text of "
                         f"{len(records)}; raise it or give validation_data")
    say(f"validation: {len(parts['val']):,} of {len(records):,} texts held out, "
        f"stratified by class (validation_fraction={fraction:g}, seed {seed})")
    return parts["train"], parts["val"]
