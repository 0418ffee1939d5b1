"""`TextClassifier`: textrnn from Python, with scikit-learn's conventions.

    from textrnn import TextClassifier
    clf = TextClassifier()                      # what `make train DATA=...` trains
    clf.fit(texts, labels)                      # lists, numpy arrays, pandas Series
    clf.predict(["央行下调存款准备金率"]), clf.predict_proba(texts), clf.score(texts, labels)
    clf.save("runs/m"); TextClassifier.load("runs/m"); clf.export("runs/m/export")

It runs the engine the commands run: `fit` prepares the texts as textrnn-prepare
does (text/prepare.py), resolves the auto recipe as textrnn-train --recipe=auto
does (training/recipe.py) and trains with training/loop.py; predictions come
from the exported SavedModel, so they are the service's. Every preparing and
training setting is a keyword argument named as its flag (TrainConfig holds
their help); a setting left at None is the recipe's choice (or TrainConfig's
default with recipe="none"), one given explicitly wins, as flags do.
"""

import inspect
import os
import shutil
import tempfile

import numpy as np

from textrnn.text import sequences
from textrnn.text import tokenize
from textrnn.training import artifacts
from textrnn.training import fitted
from textrnn.training.config import TrainConfig
from textrnn.training.recipe import RECIPES
from textrnn.util import folders
from textrnn.util import saved_model
from textrnn.util.console import quiet, say
from textrnn.util.errors import UserError

# TrainConfig's fields that are arguments of their own here, or none at all
_NOT_PARAMS = ("data_dir", "model_dir", "export")  # export: the method; fit always exports
_TRAIN_PARAMS = tuple(f for f in TrainConfig.__dataclass_fields__ if f not in _NOT_PARAMS)
# The classifier's own arguments, with their defaults: how text is prepared, the recipe,
# where the model goes and what is said.
_OWN_PARAMS = dict(recipe="auto", tokenizer="char", user_dict=None, jieba_hmm=False,
                   label_separator="|", validation_fraction=0.1, model_dir=None, verbose=1)
_PICKLE_SKIP = (artifacts.CKPT_DIR, artifacts.LOGS_DIR)  # resumable state and TensorBoard


class NotFittedError(ValueError, AttributeError):
    """Predicting before fit (scikit-learn's NotFittedError, which it subclasses when
    scikit-learn is installed, has the same bases)."""


def _not_fitted_error():
    try:
        from sklearn.exceptions import NotFittedError as SklearnNotFitted
    except ImportError:
        return NotFittedError
    return type("NotFittedError", (NotFittedError, SklearnNotFitted), {})


class TextClassifier:
    """A text classifier for Chinese (or any) text: raw text in, labels out.

    Parameters
    ----------
    recipe : {"auto", "none"}, default "auto"
        auto: every training setting not given is chosen from the data by rule, as
        `textrnn-train --recipe=auto` does (each choice said with its reason, and in
        `recipe_`); none: TrainConfig's defaults (the original tutorial's small sizes).
    tokenizer : {"char", "jieba", "bigram"}, default "char"
        How text is cut: characters (the default of `make train DATA=...`), jieba
        words, or characters whose adjacent pairs the model embeds.
    user_dict : str, optional
        A jieba user dictionary (jieba's format), for tokenizer="jieba".
    jieba_hmm : bool, default False
        Let jieba's HMM join characters it has no word for (the SavedModel then takes
        text cut by jieba; see textrnn-prepare --help).
    label_separator : str, default "|"
        Several labels a text: the separator written between them in the model's
        files; no label may contain it.
    validation_fraction : float, default 0.1
        Without `validation_data`, fit holds out this share of the texts of each class
        (seeded by `seed`) to choose the checkpoint, the wide path's settings and the
        mixture on.
    model_dir : str, optional
        Where the model directory is written (resumed if it holds an unfinished run).
        Default: a temporary folder removed with the classifier; `save` keeps it.
    verbose : int, default 1
        1: the progress and choice lines the commands print; 0: nothing.
    **settings
        Every training setting of `textrnn-train --help` by its flag's name (e.g.
        num_train_steps=2000, seed=2, wide=False,
        pretrained_embeddings="vectors.vec.gz"). None: the recipe's choice.

    Attributes
    ----------
    classes_ : numpy array
        The labels, in the order of predict_proba's columns.
    multi_label_ : bool
        Whether the model gives several labels a text (labels given as lists/tuples).
    recipe_ : dict
        The training settings the run used, by name.
    metrics_ : dict
        What training measured (val scores; test's only when a test split was used).
    model_dir_ : str
        The model directory: every textrnn command accepts it.
    """

    def __init__(self, **params):
        unknown = sorted(set(params) - set(self._param_names()))
        if unknown:
            raise TypeError(f"TextClassifier got unexpected keyword arguments {unknown}; see "
                            "help(TextClassifier) and textrnn-train --help for the settings")
        for name in self._param_names():
            setattr(self, name, params.get(name, _OWN_PARAMS.get(name)))

    @classmethod
    def _param_names(cls):
        return (*_OWN_PARAMS, *_TRAIN_PARAMS)

    def get_params(self, deep=True):
        """The constructor's arguments, by name (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Change constructor arguments; returns self."""
        for name, value in params.items():
            if name not in self._param_names():
                raise ValueError(f"invalid parameter {name!r} for TextClassifier")
            setattr(self, name, value)
        return self

    def __repr__(self):
        given = [f"{name}={value!r}" for name, value in self.get_params().items()
                 if value != _OWN_PARAMS.get(name)]
        return f"TextClassifier({', '.join(given)})"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), transformer_tags=None,
                    regressor_tags=None,
                    input_tags=InputTags(one_d_array=True, two_d_array=False, string=True))

    _estimator_type = "classifier"  # scikit-learn before 1.6 reads this

    # --- training

    def fit(self, X, y, validation_data=None, test_data=None):
        """Train on texts X with labels y; returns self.

        X: strings (a list, numpy array or pandas Series). y: a label per text (strings
        or whole numbers); a list or tuple of labels per text trains a model that gives
        several labels a text. validation_data: (texts, labels) to choose on; without
        it, `validation_fraction` of X is held out, stratified by class. test_data:
        (texts, labels) scored at each evaluation and at the end, as the commands score
        their test split (metrics_'s test_* numbers); nothing is chosen on it.
        """
        texts, labels = sequences.checked_pairs(X, y, "X", "y")
        multi = any(isinstance(label, (list, tuple)) for label in labels)
        values = sequences.label_values(labels, multi)
        if len(values) < 2:
            raise ValueError(f"y holds a single class ({next(iter(values.values()))!r}): a "
                             "classifier needs at least two")
        train = sequences.records(texts, labels, multi, "X")
        if validation_data is None:
            train, val = sequences.hold_out(train, self.validation_fraction, self._seed())
        else:
            val = sequences.pair_records(validation_data, "validation_data", multi)
        test = test_data and sequences.pair_records(test_data, "test_data", multi)
        with quiet(not self.verbose):
            self._train({"train": train, "val": val, "test": test}, multi, values)
        return self

    def _seed(self):
        return self.seed if self.seed is not None else TrainConfig.seed

    def _train(self, splits, multi, values):
        from textrnn.text.prepare import prepare_records
        if self.tokenizer not in tokenize.TOKENIZERS:
            raise ValueError(f"tokenizer={self.tokenizer!r}: one of {tokenize.TOKENIZERS}")
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe={self.recipe!r}: one of {RECIPES}")
        model_dir = self._model_dir()
        with tempfile.TemporaryDirectory(prefix="textrnn-prepared-") as data_dir:
            try:
                prepare_records(splits, data_dir, tokenizer=self.tokenizer,
                                user_dict=self.user_dict, jieba_hmm=self.jieba_hmm,
                                progress_every=0, multi_label=multi,
                                label_separator=self.label_separator)
                cfg = self._config(data_dir, model_dir)
                metrics = _train_in_process(cfg)
            except UserError as error:
                raise ValueError(str(error)) from None
        self._fitted(model_dir, values, multi, cfg, metrics)

    def _model_dir(self):
        if self.model_dir:
            os.makedirs(self.model_dir, exist_ok=True)
            return os.path.abspath(self.model_dir)
        return folders.temporary(self)

    def _config(self, data_dir, model_dir):
        """The run's TrainConfig: the settings given, then the recipe's choices."""
        from textrnn.training import recipe
        given = {name: getattr(self, name) for name in _TRAIN_PARAMS
                 if getattr(self, name) is not None}
        if isinstance(given.get("num_lstm_nodes"), int):
            given["num_lstm_nodes"] = (given["num_lstm_nodes"],)
        elif "num_lstm_nodes" in given:
            given["num_lstm_nodes"] = tuple(given["num_lstm_nodes"])
        cfg = TrainConfig(data_dir=data_dir, model_dir=model_dir, **given)
        if self.recipe == "auto":
            cfg, choices = recipe.resolve(cfg, given)
            recipe.report(choices, cfg, given)
            recipe.write_flagfile(artifacts.path(model_dir, artifacts.RECIPE_FILE), choices,
                                  cfg, given)
        return recipe.vectors_width(cfg, given)

    def _fitted(self, model_dir, values, multi, cfg, metrics):
        """Write what load() reads back, and set the fitted attributes from it."""
        params = {k: v for k, v in self.get_params().items() if k != "model_dir"}
        self._load_fitted(model_dir, fitted.write(model_dir, values, multi, cfg, params,
                                                  metrics))
        name = "micro_f1" if multi else "accuracy"
        if f"val_{name}" in metrics:
            kept = "" if self.model_dir else " (temporary: save() keeps it)"
            say(f"fitted: val {name.replace('_', '-')} {metrics[f'val_{name}']:.4f}; model "
                f"directory {model_dir}{kept}")

    def _load_fitted(self, model_dir, record):
        self.model_dir_ = model_dir
        self.multi_label_ = record.multi_label
        self.classes_ = record.classes
        self.recipe_ = record.settings
        self.metrics_ = record.metrics
        self._values = record.values
        self._predictor = None

    # --- predicting

    def _check_fitted(self):
        if not hasattr(self, "model_dir_"):
            raise _not_fitted_error()(
                "This TextClassifier instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    def _serve(self):
        self._check_fitted()
        if self._predictor is None:
            from textrnn.serving.inference import Predictor
            export_dir = artifacts.path(self.model_dir_, artifacts.EXPORT_DIR)
            if not saved_model.is_saved_model(export_dir):
                with quiet(not self.verbose):
                    self.export()
            self._predictor = Predictor(export_dir)
        return self._predictor

    def _outputs(self, X, batch_size=256):
        """serving_default's outputs for texts X, concatenated over batches."""
        return self._serve().outputs(sequences.checked_texts(X, "X"), batch_size)

    def predict_proba(self, X):
        """(n, k) float32 probabilities, columns in `classes_` order (several labels a
        text: each label's own probability)."""
        return self._outputs(X)["probabilities"]

    def predict(self, X):
        """The label of each text (a numpy array); several labels a text: a tuple of the
        labels at or above their thresholds, possibly empty. A model exported with an
        abstain label (abstain_label=) gives that label where it abstains."""
        out = self._outputs(X)
        if self.multi_label_:
            return fitted.as_array([tuple(self._values.get(label, label) for label in chosen)
                           for chosen in out["labels"]])
        if not len(out["probabilities"]):
            return self.classes_[:0]
        guesses = self.classes_[out["probabilities"].argmax(axis=1)]
        if not out.get("abstain", np.zeros(0, bool)).any() or \
                not (self._serve().confidence or {}).get("abstain_label"):
            return guesses
        label = self._serve().confidence["abstain_label"]
        return fitted.as_array([label if a else g for a, g in zip(out["abstain"], guesses)])

    def predict_set(self, X, alpha=None):
        """Each text's prediction set, a tuple of labels, most probable first: the labels
        whose calibrated probability passes the split-conformal threshold fitted on val,
        so the set holds the true label for at least 1 - alpha of texts like val's.
        alpha=None: the SavedModel's own sets (conformal_alpha, default 0.1); another
        alpha is computed from the same calibration, no retraining."""
        if self.multi_label_:
            raise ValueError("predict_set is for one label a text; a multi-label model's "
                             "predict already returns the labels that pass their thresholds")
        if alpha is not None and not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha={alpha}: a share between 0 and 1 (e.g. 0.1: sets that "
                             "hold the true label for 90% of texts)")
        out = self._outputs(X)
        if "label_set" not in out:
            raise ValueError(f"{self.model_dir_}: this model serves no prediction sets (an "
                             "ensemble, or trained before calibration existed); train it again")
        sets = out["label_set"]
        if alpha is not None:
            from textrnn.training import calibration
            record = calibration.Calibration.load(self.model_dir_)
            sets = calibration.ranked_sets(out["probabilities"], calibration.conformal_floor(
                record.true_probability, alpha), self._serve().labels)
        return fitted.as_array([tuple(self._values.get(label, label) for label in chosen)
                                for chosen in sets])

    def explain(self, X, label=None):
        """An Explanation of each text: its units' shares of the probability of its predicted
        label, or of `label`'s (docs/explain.md); a notebook shows it shaded."""
        name = next((k for k, v in self._values.items() if v == label), label)
        texts = sequences.checked_texts(X, "X")
        return list(self._serve().explain(texts, None if label is None else str(name)))

    def select(self, X, k=500, **options):
        """The k texts of the pool X to label next (curation/selection.py's Choices)."""
        from textrnn.curation import selection
        return selection.select(self._serve(), sequences.checked_texts(X, "X"), k, **options)

    def score(self, X, y):
        """Accuracy on texts X with labels y (several labels a text: micro-F1)."""
        texts, labels = sequences.checked_pairs(X, y, "X", "y")
        predicted = self.predict(texts)
        if not self.multi_label_:
            return float(np.mean([p == t for p, t in zip(predicted, labels)]))
        truth = [set(t if isinstance(t, (list, tuple)) else [t]) for t in labels]
        hits = sum(len(set(p) & t) for p, t in zip(predicted, truth))
        given = sum(len(p) for p in predicted) + sum(len(t) for t in truth)
        return 2.0 * hits / given if given else 1.0

    # --- files

    def save(self, path):
        """Copy the model directory to `path` (a folder every textrnn command accepts,
        e.g. textrnn-serve --model_dir=PATH); returns its absolute path."""
        self._check_fitted()
        path = os.path.abspath(path)
        if path != self.model_dir_:
            if os.path.exists(path) and os.listdir(path):
                raise ValueError(f"{path}: not empty; save into a new or empty folder")
            shutil.copytree(self.model_dir_, path, dirs_exist_ok=True)
        return path

    @classmethod
    def load(cls, path):
        """A fitted TextClassifier of a model directory, trained by fit or by the commands."""
        path = os.path.abspath(path)
        try:
            record = fitted.read(path)
        except UserError as error:
            raise ValueError(str(error)) from None
        params = {k: v for k, v in record.params.items() if k in cls._param_names()}
        clf = cls(**params, model_dir=path)
        clf._load_fitted(path, record)
        return clf

    def export(self, export_dir=None, serving_base=None):
        """Write the SavedModel textrnn-export writes (default MODEL_DIR/export; with
        `serving_base`, its next numbered version); returns its path."""
        self._check_fitted()
        from textrnn.training.export import export_models
        with quiet(not self.verbose):
            try:
                return export_models([self.model_dir_], export_dir, serving_base)
            except UserError as error:
                raise ValueError(str(error)) from None

    # --- pickling: the model directory travels inside the pickle

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k != "_predictor"}
        if hasattr(self, "model_dir_"):
            state["model_dir_"] = folders.tar(self.model_dir_, skip=_PICKLE_SKIP)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._predictor = None
        if "model_dir_" in state:
            self.model_dir_ = folders.temporary(self)
            folders.untar(state["model_dir_"], self.model_dir_)


def _train_in_process(cfg):
    """training/loop.train (which gives the process's seeds and dtype policy back)."""
    from textrnn.util import startup
    startup.import_tensorflow()  # without its start-up noise, if it is not loaded yet
    from textrnn.training import loop
    return loop.train(cfg)


# Generated from the parameter lists, so scikit-learn's get_params, clone and help()
# see every argument by name.
TextClassifier.__init__.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=_OWN_PARAMS.get(name))
       for name in (*_OWN_PARAMS, *_TRAIN_PARAMS)])
