"""Raw text in, predictions out, through an exported SavedModel.

The shared engine of `textrnn-predict` and `textrnn-evaluate`: it loads the
SavedModel and sends it raw text, which the graph cuts itself. Only models
whose words were cut with jieba's HMM (assets.extra/textrnn.json says
`"input": "segmented"`) get text cut here first, by the same implementation
`textrnn-prepare` used for training.
"""

import os

import numpy as np

from textrnn.text import tokenize
from textrnn.util import saved_model
from textrnn.util.errors import UserError
from textrnn.util.saved_model import DEFAULT_SIGNATURE, EXPLAIN_SIGNATURE, EXTRA_DIR


class Predictor:
    """A loaded SavedModel with its tokenizer."""

    def __init__(self, export_dir):
        import tensorflow as tf
        info = saved_model.read_info(export_dir)
        self.labels = info["labels"]
        # several labels a text: `labels` outputs, decided in the graph at its thresholds
        self.multi_label = bool(info.get("multi_label"))
        self.label_separator = info.get("label_separator")
        # what the graph's confidence outputs were exported with (calibration.Served's
        # dict); None for models that have none (ensembles, multi-label, older exports)
        self.confidence = info.get("confidence")
        self.tokenizer_name = info["tokenizer"]
        self.raw_input = info["input"] == "raw"
        self._cut = None
        if not self.raw_input:
            user_dict = info.get("user_dict")
            self._cut = tokenize.get_tokenizer(
                self.tokenizer_name,
                os.path.join(export_dir, EXTRA_DIR, user_dict) if user_dict else None,
                hmm=tokenize.uses_hmm(info))
        self.export_dir = export_dir
        self._loaded = tf.saved_model.load(export_dir)  # the signatures hold on to it
        self.signatures = self._loaded.signatures
        self._tf = tf

    def model_input(self, text):
        """What the SavedModel is sent for raw `text`: the text itself, or its
        jieba tokens joined by spaces for a model that reads segmented text."""
        return text if self._cut is None else " ".join(self._cut(text))

    def run(self, model_inputs, signature=DEFAULT_SIGNATURE, decode_labels=True):
        """Every output (numpy) of `signature` for a list of model inputs (model_input's
        strings): the one way textrnn runs a signature. serving_default's outputs are
        `probabilities`, `unknown_share` (the share of each text's tokens outside the
        vocabulary) and the labels; with `decode_labels`, label lists (a multi-label
        model's `labels`, a calibrated model's `label_set`) become lists of strings."""
        default = signature == DEFAULT_SIGNATURE
        if not model_inputs and default:
            out = dict(probabilities=np.zeros((0, len(self.labels)), np.float32),
                       unknown_share=np.zeros(0, np.float32))
            return {**out, "labels": []} if self.multi_label else out
        function = self.signatures[signature]
        name = next(iter(function.structured_input_signature[1]))
        out = {key: value.numpy() for key, value in
               function(**{name: self._tf.constant(model_inputs, self._tf.string)}).items()}
        for key in ("labels", "label_set"):
            if default and decode_labels and key in out:
                out[key] = [[label.decode("utf-8") for label in row if label]
                            for row in out[key]]
        return out

    def outputs(self, texts, batch_size=256):
        """serving_default's outputs for a list of raw texts, run in batches and joined."""
        parts = [self.run([self.model_input(t) for t in texts[i:i + batch_size]])
                 for i in range(0, len(texts), batch_size)]
        if not parts:
            return self.run([])
        return {name: (sum((p[name] for p in parts), []) if isinstance(parts[0][name], list)
                       else np.concatenate([p[name] for p in parts]))
                for name in parts[0]}

    def predict(self, texts, batch_size=256):
        """Yield (text, outputs) for raw texts, batch by batch; `outputs` is the dict of
        serving_default's outputs for that text."""
        batch = []
        for text in texts:
            batch.append(text)
            if len(batch) == batch_size:
                yield from self._rows(batch)
                batch = []
        if batch:
            yield from self._rows(batch)

    def _rows(self, batch):
        out = self.run([self.model_input(t) for t in batch])
        for i, text in enumerate(batch):
            yield text, {name: value[i] for name, value in out.items()}

    def explain(self, texts, label=None, batch_size=32):
        """Yield an explanations.Explanation of each raw text, batch by batch: its units'
        shares of the probability of its predicted label, or of `label`'s."""
        from textrnn.serving import explanations
        if EXPLAIN_SIGNATURE not in self.signatures:
            why = ("a multi-label model is not explained" if self.multi_label else
                   "a model that reads text cut by jieba's HMM is not explained" if
                   not self.raw_input else "it was exported before explanations existed: "
                   "export it again (textrnn-export)")
            raise UserError(f"{self.export_dir}: this SavedModel has no {EXPLAIN_SIGNATURE} "
                            f"signature ({why})")
        if label is not None:
            explanations.class_index(self.labels, label)  # an unknown label fails now
        texts = iter(texts)
        while batch := [text for _, text in zip(range(batch_size), texts)]:
            outputs = self.run([self.model_input(t) for t in batch], EXPLAIN_SIGNATURE)
            yield from explanations.from_outputs(batch, outputs, self.labels, label)
