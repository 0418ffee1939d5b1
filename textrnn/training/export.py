"""A model directory's best checkpoint as a SavedModel (what `textrnn-export` writes).

The SavedModel takes raw text and gives labels: its `serving_default`
signature maps `text` (a batch of strings) to `probabilities`, `class_id`,
`label` and `unknown_share` (the share of the text's tokens the model has no
embedding for), and when training calibrated it (training/calibration.py) the
probabilities are the calibrated ones and `label_set`, `set_size`, `confidence`
and `abstain` come too -- for a multi-label model to `probabilities` (each
label's), `labels`, `num_labels`, `thresholds` and `unknown_share` (see
training/outputs.py); its `tokenize` signature maps `text` to `tokens` (a [batch, n]
string tensor padded with empty strings), what the model reads. Word (jieba)
models cut the text in the graph with textrnn.text.segmenter, jieba's dictionary
an asset; the token and label tables are assets too, looked up by the same
TokenEncoder training used, so serving needs TensorFlow and nothing else.

The exception: a model prepared with `--jieba_hmm` (or imported from TF1)
reads text already cut by jieba with the HMM on, tokens separated by spaces,
which the graph cannot reproduce; assets.extra/textrnn.json says so
(`"input": "segmented"`) and textrnn-predict cuts the text in Python for it.

A model trained with a wide path (`--wide`, part of `--recipe=auto`) exports
the recurrent model and the character n-gram TF-IDF classifier together,
their probabilities mixed by the weight chosen on val.

Several model directories (`--model_dir=a,b`) export as one SavedModel that
averages their probabilities: an ensemble, e.g. a word model and a char model
of the same categories. Members read the same input string: char and bigram
members split it into characters and drop the spaces, so they see the raw
text's characters whatever word segmentation the other members need.

The export is written to a temporary sibling folder and renamed into place:
an interrupted export leaves the previous one intact. With `--serving_base`
it is the next numbered version of TensorFlow Serving's layout (BASE/1,
BASE/2, ...), which textrnn-serve --model_base_path (or
tensorflow_model_server) picks up as it appears.

The graph runs on any device whichever one exported it: it is traced in
float32 with kernels that CPUs and GPUs both have (model.portable_kernels),
never with cuDNN's.
"""

import contextlib
import os
import shutil
import tempfile

import textrnn
from textrnn.text import tokenize
from textrnn.training import artifacts
from textrnn.util import atomic
from textrnn.util.console import say
from textrnn.util.errors import UserError
from textrnn.util.saved_model import EXPLAIN_SIGNATURE, EXTRA_DIR, INFO_FILE, next_version_dir
from textrnn.training.wide import mixture


def build_archive(members, label_encoder, reader=None, thresholds=None, served=None,
                  explain=True):
    """A keras.export.ExportArchive with the text-in, labels-out signature,
    and `tokenize`: the tokens of TokenEncoder `reader` (default: the first
    member's encoder). With `thresholds` (a multilabel.Thresholds) the model is
    multi-label: sigmoid probabilities and the labels that reach their thresholds.
    With `served` (a calibration.Served) a single-label model serves calibrated
    probabilities, prediction sets and abstaining (training/outputs.py).
    A single-label model reading raw text (`explain`) also gets the `explain`
    signature (training/attributions.py), its units `reader`'s tokens.

    `members` is a list of (weight, model, encoder): `model(encoder(text))`
    gives logits (a Keras model over a TokenEncoder's ids, or the wide
    path's linear model over an NgramFeaturizer's TF-IDF rows). The served
    probabilities are the weighted sum of the members' softmax outputs; the
    weights sum to 1.
    """
    import keras
    import tensorflow as tf
    from textrnn.training import outputs

    archive = keras.export.ExportArchive()
    for _, model, encoder in members:
        archive.track(model)
        archive.track(encoder)
    archive.track(label_encoder)

    def serve(text):
        segmented = {}  # each segmenter cuts the text once, however many members read it
        probabilities, unknown = [], []
        for weight, model, encoder in members:
            features, share = encoder.encode(text, segmented)
            probabilities.append(weight * squash(
                tf.cast(model(features, training=False), tf.float32)))
            unknown.append(share)
        probabilities = tf.add_n(probabilities)
        # how much of the text the members could not read (mean over them)
        unknown = tf.add_n(unknown) / len(unknown)
        if thresholds is not None:
            return {**outputs.label_sets(probabilities, thresholds, label_encoder,
                                         served.temperature if served else None),
                    "unknown_share": unknown}
        return {**outputs.single_label(probabilities, label_encoder, served),
                "unknown_share": unknown}

    squash = tf.nn.sigmoid if thresholds is not None else tf.nn.softmax

    reader = reader or members[0][2]

    def tokens(text):
        return {"tokens": reader.tokens(text).to_tensor("")}

    text_spec = [tf.TensorSpec([None], tf.string, name="text")]
    archive.add_endpoint("serving_default", serve, input_signature=text_spec)
    archive.add_endpoint("tokenize", tokens, input_signature=text_spec)
    if explain and thresholds is None:
        from textrnn.training.attributions import explainer
        archive.add_endpoint(EXPLAIN_SIGNATURE, explainer(members, label_encoder, reader,
                                                          served), input_signature=text_spec)
    return archive


def _serving_tokenizer(model_dirs, configs):
    """(tokenizer, user_dict, hmm) of the word segmentation these members read.

    Members that split on whitespace read the word segmentation they were
    trained on, so they must all share one tokenizer, user dictionary and
    HMM setting; char and bigram members accept any of them.
    """
    worded = {(c["tokenizer"], c.get("user_dict") or None, tokenize.uses_hmm(c)): d
              for d, c in zip(model_dirs, configs) if c["encoder"]["split"] == "whitespace"}
    if len(worded) > 1:
        listed = "; ".join(f"{d}: {t}" + (f" with user dictionary {u}" if u else "")
                           + (" with the HMM" if h else "")
                           for (t, u, h), d in worded.items())
        raise UserError(f"these models read differently segmented text and cannot share one "
                        f"input: {listed}")
    return next(iter(worded), ("char", None, False))


def _segmenter(tokenizer, user_dict, hmm, directory):
    """The in-graph segmenter word members serve with (None: they read segmented text)."""
    if tokenizer != "jieba" or hmm:
        return None
    tokenize.check_user_dict(user_dict, "; the export needs it to cut text as training did")
    from textrnn.text.segmenter import JiebaSegmenter
    return JiebaSegmenter.from_jieba(tokenize.jieba_tokenizer(user_dict), directory)


def _shared_labels(model_dirs):
    """The categories every member predicts, in the same order (their probabilities add)."""
    from textrnn.text import vocab
    labels = [vocab.Categories.load(artifacts.path(d, vocab.CATEGORIES_FILE)).labels
              for d in model_dirs]
    for model_dir, other in zip(model_dirs[1:], labels[1:]):
        if list(other) != list(labels[0]):
            raise UserError(f"{model_dir}: its categories ({', '.join(other)}) differ from "
                            f"{model_dirs[0]}'s ({', '.join(labels[0])}); an ensemble needs the "
                            "same categories in the same order")
    return list(labels[0])


def _write_info(export_dir, tokenizer, user_dict, hmm, raw, labels, members, label_info):
    """assets.extra/textrnn.json: what the model reads, its labels and members.

    `input` is "raw" when the graph cuts raw text itself, "segmented" when
    clients must cut it with jieba first (HMM on): then the tokenizer's name
    and the user dictionary, copied alongside, say how.
    """
    extra = os.path.join(export_dir, EXTRA_DIR)
    os.makedirs(extra, exist_ok=True)
    if user_dict:
        tokenize.check_user_dict(user_dict, "; the export needs it to cut text as training did")
        shutil.copyfile(user_dict, os.path.join(extra, "user_dict.txt"))
    artifacts.write_json(os.path.join(extra, INFO_FILE), dict(
        tokenizer=tokenizer, user_dict="user_dict.txt" if user_dict else None,
        jieba_hmm=hmm, input="raw" if raw else "segmented", labels=labels, **label_info,
        members=members, textrnn_version=textrnn.__version__))


def write_atomically(archive, export_dir, finish=None):
    """archive.write_out into a temporary folder, then swap it into export_dir.

    `finish(tmp_dir)` may add files before the swap.
    """
    with atomic.replacing_dir(export_dir) as tmp:
        archive.write_out(tmp, verbose=False)
        if finish:
            finish(tmp)
    return os.path.abspath(export_dir)


@contextlib.contextmanager
def _float32():
    """Build models in float32, whatever precision trained them: the export must give
    the same probabilities on every device, and float16 math differs between them."""
    import keras
    policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(policy)


def export_models(model_dirs, export_dir=None, serving_base=None, confidence=None,
                  explain=True):
    """Export the best checkpoints of model_dirs as one SavedModel; returns its path.

    One directory exports its model (by default into MODEL_DIR/export, or
    as the next version under `serving_base`); several export their
    ensemble, which needs an explicit export_dir or serving_base.
    `confidence`: {conformal_alpha, abstain_target_accuracy, abstain_label}
    overriding the ones training was given (a None value keeps training's).
    `explain=False` leaves the `explain` signature out (benchmarks/explain.py measures
    what it costs).
    """
    if not model_dirs:
        raise UserError("--model_dir is required")
    if export_dir and serving_base:
        raise UserError("give --export_dir or --serving_base, not both")
    if serving_base:
        export_dir = next_version_dir(serving_base)
    if len(model_dirs) > 1 and not export_dir:
        raise UserError("--export_dir (or --serving_base) is required when exporting "
                        "several models")
    if len(set(map(os.path.abspath, model_dirs))) < len(model_dirs):
        raise UserError(f"a model directory is listed twice: {', '.join(model_dirs)}")
    from textrnn.training.recurrent.model import portable_kernels
    with _float32():
        loaded = [artifacts.load_model(d) for d in model_dirs]  # first: names a non-model dir
    labels = _shared_labels(model_dirs)
    configs = [config for _, config, _ in loaded]
    thresholds = _thresholds(model_dirs, configs)
    served = _served(model_dirs, confidence or {})
    tokenizer, user_dict, hmm = _serving_tokenizer(model_dirs, configs)
    raw = not (tokenizer == "jieba" and hmm)
    if not raw:
        say("note: these words were cut with jieba's HMM on, which the graph cannot reproduce: "
            "the SavedModel takes text cut by jieba (tokens separated by spaces), not raw "
            "text; prepare without --jieba_hmm for a raw-text model")
    # dictionary_dir: the segmenter's asset, until the export is written
    with tempfile.TemporaryDirectory() as dictionary_dir, \
            portable_kernels([m for m, _, _ in loaded]), _float32():
        segmenter = _segmenter(tokenizer, user_dict, hmm, dictionary_dir)
        archive = _archive(model_dirs, loaded, len(labels), segmenter, thresholds, served,
                           explain=explain and raw)
        return _write(archive, model_dirs, export_dir, loaded, lambda tmp, members: _write_info(
            tmp, tokenizer, user_dict, hmm, raw, labels, members,
            _label_info(configs[0], thresholds, served)))


def _served(model_dirs, overrides):
    """The calibration.Served of a model with a calibration record (a multi-label one's:
    its temperature only); None for ensembles (each member's calibration is of its own
    probabilities, not of their average) and runs without a record (older ones, TF1
    imports)."""
    from textrnn.training import calibration
    record = calibration.Calibration.load(model_dirs[0]) if len(model_dirs) == 1 else None
    given = [f"--{name}" for name, value in overrides.items() if value is not None]
    if record is None:
        if given:
            raise UserError(f"{', '.join(given)}: {', '.join(model_dirs)} has no calibration "
                            f"({artifacts.CALIBRATION_FILE}, written at the end of training a "
                            "single-label model with this version); export one model "
                            "directory trained by textrnn-train, or leave the flag out")
        return None
    if record.multi_label:
        if given:
            raise UserError(f"{', '.join(given)}: prediction sets and abstaining are for "
                            "single-label models; a multi-label model decides by its "
                            "thresholds")
        return calibration.Served(record.temperature, None, None)
    served = record.served(**overrides)
    if given:
        served.report()
    return served


def _thresholds(model_dirs, configs):
    """A multi-label model's Thresholds (chosen on val by training); None for one label a
    text. Ensembles are of single-label models: each multi-label model's thresholds were
    chosen for its own probabilities, not for an average."""
    multi = [d for d, c in zip(model_dirs, configs) if artifacts.label_separator(c) is not None]
    if not multi:
        return None
    if len(model_dirs) > 1:
        raise UserError(f"{multi[0]} is a multi-label model: its thresholds were chosen on "
                        "val for its own probabilities, so it exports alone, not in an "
                        "ensemble")
    from textrnn.training.multilabel import Thresholds
    path = artifacts.path(model_dirs[0], artifacts.THRESHOLDS_FILE)
    if not os.path.isfile(path):
        raise UserError(f"{path}: missing; training chooses a multi-label model's thresholds "
                        "on val when it ends (run the same textrnn-train command again to "
                        "finish it)")
    return Thresholds.from_dict(artifacts.read_json(path))


def _label_info(config, thresholds, served=None):
    """textrnn.json's record of how labels are decided."""
    if thresholds is None:
        return dict(multi_label=False, confidence=served.to_dict() if served else None)
    shown = thresholds.per_label
    if served is not None:  # in the units of the calibrated probabilities served
        from textrnn.training.calibration import temper_labels
        shown = [round(float(t), 6) for t in temper_labels(shown, served.temperature)]
    return dict(multi_label=True, label_separator=artifacts.label_separator(config),
                thresholds=shown, top_label=thresholds.top_label,
                thresholds_why=thresholds.why,
                confidence=dict(temperature=served.temperature) if served else None)


def _archive(model_dirs, loaded, num_classes, segmenter, thresholds=None, served=None,
             explain=True):
    """The ExportArchive of the members' scorers; `tokenize` shows a word member's tokens
    when there is one."""
    scorers, readers = [], []
    for d, (model, config, _) in zip(model_dirs, loaded):
        encoder = artifacts.token_encoder(d, config, segmenter)
        readers.append(encoder)
        scorers += mixture.scorers(d, model, encoder, num_classes, 1.0 / len(model_dirs))
    reader = next((r for r in readers if r.split == "whitespace"), readers[0])
    return build_archive(scorers, artifacts.label_encoder(model_dirs[0], loaded[0][1]), reader,
                         thresholds, served, explain)


def _write(archive, model_dirs, export_dir, loaded, write_info):
    members = [dict(model_dir=os.path.abspath(d), checkpoint=checkpoint,
                    tokenizer=config["tokenizer"], jieba_hmm=tokenize.uses_hmm(config),
                    encoder=config["encoder"], model=config["model"],
                    wide=mixture.read_info(d))
               for d, (_, config, checkpoint) in zip(model_dirs, loaded)]
    target = export_dir or artifacts.path(model_dirs[0], artifacts.EXPORT_DIR)
    say(f"exporting the SavedModel to {target} ...")  # a large model takes a while to write
    path = write_atomically(archive, target, finish=lambda tmp: write_info(tmp, members))
    for member in members:
        say(f"exported {member['checkpoint']} to {path}")
    return path


def export_model(model_dir, export_dir=None):
    """Export model_dir's best checkpoint; returns the export path."""
    return export_models([model_dir], export_dir)
