"""textrnn: text classifiers for Chinese, raw text in, labels out, in TensorFlow / Keras.

    from textrnn import TextClassifier
    clf = TextClassifier().fit(texts, labels)
    clf.predict(["央行下调存款准备金率"])

Importing textrnn changes nothing in the process: the commands set their own
environment defaults for TensorFlow (util/startup.py), the library never does.
"""

__version__ = "0.3.0"
__all__ = ["TextClassifier", "audit", "__version__"]


def __getattr__(name):
    # TextClassifier loads on first use, so `import textrnn` stays light for the commands
    if name == "TextClassifier":
        from textrnn.classifier import TextClassifier
        return TextClassifier
    if name == "audit":  # textrnn.curation.audit.audit: duplicates, leaks, label issues
        from textrnn.curation.audit import audit
        return audit
    raise AttributeError(f"module 'textrnn' has no attribute {name!r}")
