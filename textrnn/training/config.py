"""TrainConfig: every setting of a training run, with its default and help, checked.

`textrnn-train`'s flags are generated from these fields (util/settings.py) and
fill it; tests, benchmarks and the auto recipe build it directly.
"""

import dataclasses

from textrnn.features import PADDINGS
from textrnn.training import calibration
from textrnn.training.recurrent import CELLS, INITIALIZERS, POOLINGS
from textrnn.text import prepared
from textrnn.util.errors import UserError
from textrnn.util.settings import setting

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker")
PRECISIONS = ("none", "auto", "float16", "bfloat16")
# Flags that decide the shape of the model or its input: a run cannot resume
# under different values.
# What export serves about confidence: textrnn-export's flags too.
CONFIDENCE_FIELDS = ("conformal_alpha", "abstain_target_accuracy", "abstain_label")
SHAPE_FIELDS = ("num_word_threshold", "max_vocab_size", "pretrained_embeddings",
                "pretrained_max_tokens", "num_timesteps", "num_embedding_size", "cell",
                "num_lstm_nodes", "bidirectional", "num_fc_nodes", "padding", "pooling")


@dataclasses.dataclass
class TrainConfig:
    # --- data and outputs
    data_dir: str = setting(
        None, "A textrnn-prepare output folder (train/val/test, vocab).", required=True)
    model_dir: str = setting(
        None, "Folder for checkpoints, logs, metrics and the export. If it holds an unfinished "
        "run, training resumes from it.", required=True)
    num_word_threshold: int = setting(
        10, "Keep tokens seen at least this often in train (the original's threshold, applied when "
        "loading vocab.txt).")
    max_vocab_size: int = setting(
        0, "Cap on the vocabulary size, reserved tokens included (0: no cap).")
    num_timesteps: int = setting(50, "Tokens per text; longer texts are truncated.")
    pretrained_embeddings: str = setting(
        None, "Start the embedding from pretrained vectors: a word2vec text file (.vec, .txt, "
        "with or without its 'N D' header; gzip-compressed or not) or binary file (.bin). The "
        "embedding width is the file's dimension; tokens of the file that train lacks join the "
        "vocabulary (see --pretrained_max_tokens). Streamed: files of millions of rows work.")
    pretrained_max_tokens: int = setting(
        50_000, "With --pretrained_embeddings: add at most this many tokens that train lacks "
        "(or that are below --num_word_threshold) from the vectors file, in its order (most "
        "frequent first), so unseen tokens have a meaning at test time. 0: none.")
    rescale_vectors: bool = setting(
        False, "With --pretrained_embeddings: multiply the vectors by one factor so their "
        "standard deviation is that of the random embedding --initializer starts from (their "
        "directions, and so their similarities, stay). Each step then moves them further "
        "relative to their size: that can rescue a model the vectors slow down (compare its "
        "val accuracy with and without), and loses part of what vectors that already fit "
        "the task bring. Off: the file's values as they are.")
    freeze_embedding_steps: int = setting(
        0, "Do not update the embedding in the first this many steps (pretrained vectors "
        "stay as they are while the layers above learn to read them). 0: train it from the "
        "first step; --recipe=auto chooses it when vectors are given.")
    embedding_lr_scale: float = setting(
        1.0, "The embedding learns at this multiple of --learning_rate (its own Adam), e.g. "
        "below 1 to keep pretrained vectors close to where they start. 1: as the rest.")
    # --- model
    num_embedding_size: int = setting(16, "Embedding width.")
    cell: str = setting("lstm", "Recurrent cell type.", choices=CELLS)
    num_lstm_nodes: tuple = setting(
        (32, 32), "Units of each recurrent layer, comma separated; the number of entries is the "
        "number of layers.")
    bidirectional: bool = setting(False, "Run each recurrent layer in both directions.")
    num_fc_nodes: int = setting(32, "Units of the dense ReLU layer before the logits.")
    keep_prob: float = setting(
        0.8, "Keep probability of the dropout after each recurrent layer and after the dense layer "
        "(the original's convention: dropout rate is 1 - keep_prob), in training only.")
    initializer: str = setting(
        "original", "original: the TF1 graph's initialisers; keras: Keras' defaults.",
        choices=INITIALIZERS)
    pooling: str = setting(
        "last", "How the last recurrent layer's outputs become one vector: last (the original: the "
        "last valid step), or max / mean over the valid steps, or concatenations of two.",
        choices=POOLINGS)
    embedding_dropout: float = setting(
        0.0, "Dropout rate on embedding channels (SpatialDropout1D), in training only.")
    padding: str = setting(
        "mask", "mask: pad with <PAD> and read the last valid step (textrnn); original: pad with "
        "<UNK> to --num_timesteps and read the last padded step, reproducing the original's "
        "defect.", choices=PADDINGS)
    # --- optimisation
    learning_rate: float = setting(0.001, "Adam learning rate.")
    lr_schedule: str = setting(
        "constant", "constant: the original; cosine: linear warm-up over --warmup_steps, then "
        "cosine decay to zero at --num_train_steps.", choices=("constant", "cosine"))
    warmup_steps: int = setting(0, "Warm-up steps of the cosine schedule.")
    weight_decay: float = setting(0.0, "Decoupled weight decay of Adam (0: none, as the original).")
    label_smoothing: float = setting(
        0.0, "Label smoothing of the training loss (0: none). Reported losses are always plain "
        "cross-entropy.")
    positive_weight: str = setting(
        "none", "Several labels a text (data prepared with --multi_label): none: every "
        "decision weighs the same in the loss; sqrt: a label's positives weigh "
        "sqrt(negatives / positives) of train, so rare labels are not learned as 'never'.",
        choices=("none", "sqrt"))
    early_stopping_evals: int = setting(
        0, "Stop when validation accuracy has not improved for this many evaluations (0: never).")
    clip_lstm_grads: float = setting(
        1.0, "Clip all gradients together to this global norm (0: no clipping).")
    batch_size: int = setting(100, "Global batch size (split across replicas).")
    num_train_steps: int = setting(10000, "Total training steps.")
    log_every_steps: int = setting(200, "Log loss and accuracy every this many steps.")
    eval_every_steps: int = setting(1000, "Evaluate val and test every this many steps.")
    checkpoint_every_steps: int = setting(
        200, "Save a resumable checkpoint every this many steps (also saved on Ctrl-C / SIGTERM "
        "and at the end).")
    shuffle_buffer: int = setting(10000, "Lines held in the shuffle buffer.")
    cache: bool = setting(False, "Keep the training lines in memory after the first pass.")
    bucket_by_length: bool = setting(
        False, "Batch training texts of similar length together: each batch is padded to its "
        "longest text, so less padding is computed, but a batch is then no longer a random "
        "sample of train (faster; worse on val and test where we measured it, "
        "docs/multilabel.md). "
        "Needs --padding=mask.")
    seed: int = setting(1, "Seed for initialisation, dropout and shuffling.")
    jit_compile: bool = setting(False, "Compile the training step with XLA.")
    export: bool = setting(True, "Write the SavedModel to --model_dir/export at the end.")
    # --- devices
    strategy: str = setting(
        "auto", "tf.distribute strategy. auto: mirrored over all GPUs when there are several, else "
        "the default; multi_worker reads TF_CONFIG.",
        choices=STRATEGIES)
    num_cpu_devices: int = setting(
        1, "Split the CPU into this many logical devices, so --strategy=mirrored can be tried and "
        "tested without GPUs.")
    mixed_precision: str = setting(
        "none", "Compute dtype policy: float16 (GPU, with loss scaling), bfloat16, auto (float16 "
        "on GPU, else none). Variables, logits and loss stay float32.",
        choices=PRECISIONS)
    # --- the wide path
    wide: bool = setting(
        False, "Also train a linear SVM on character 1-3-gram (and word, see --wide_words) TF-IDF "
        "(fitted on train, its C chosen on val) and serve its mixture with the recurrent model in "
        "one SavedModel, the weight chosen on val.")
    wide_max_ngrams: int = setting(
        1_000_000, "Most n-grams the wide path keeps (the most frequent in train): bounds its "
        "memory, its training time and the SavedModel size. --recipe=auto chooses it from the "
        "corpus size.")
    wide_min_df: int = setting(
        1, "The wide path keeps n-grams seen in at least this many train texts.")
    wide_refit: bool = setting(
        True, "Once val has chosen the wide path's C, temperature and mixture weight, train its "
        "classifier again on train + val with them (its n-grams and IDF stay train's); the val "
        "accuracy printed is then the one the choices were made on.")
    wide_words: bool = setting(
        True, "The wide path's features include jieba's words (cut in the graph, so the SavedModel "
        "carries jieba's dictionary, about 16 MB) beside the character 1-3-grams.")
    wide_vectors: bool = setting(
        True, "With --pretrained_embeddings: the wide path's features also hold the mean "
        "direction of each text's character vectors (the file's single-character rows), at the "
        "weight against the TF-IDF row that scores best on val, or not at all when no weight "
        "scores above the n-grams alone.")
    wide_max_train_mb: float = setting(
        0.0, "The wide path learns from at most this many MB of the prepared train split: from a "
        "larger one, every k-th line (a uniform sample), which bounds its time and the memory its "
        "cached features take. 0: all of train. --recipe=auto sets a bound.")
    # --- confidence (single-label models; textrnn-export can change them without retraining)
    conformal_alpha: float = setting(
        0.1, "The SavedModel also returns a prediction set a text (label_set, set_size): the "
        "labels whose calibrated probability passes the split-conformal threshold fitted on "
        "val, so that the set holds the true label for at least 1 - alpha of texts like "
        "val's.")
    abstain_target_accuracy: float = setting(
        0.0, "Abstain below the lowest confidence at which the answered val texts reach this "
        "accuracy with 95% confidence (exact binomial bound): the SavedModel outputs "
        "confidence and abstain. 0: never abstain.")
    abstain_label: str = setting(
        None, "With --abstain_target_accuracy: the label returned instead of a guess when the "
        "model abstains (e.g. 其他); unset, the guess is returned and marked by abstain.")

    def validate(self):
        """Raise a UserError naming the flag to change for any value out of range."""
        positive = ("num_timesteps", "num_embedding_size", "num_fc_nodes", "batch_size",
                    "num_train_steps", "log_every_steps", "eval_every_steps",
                    "checkpoint_every_steps", "num_cpu_devices")
        for name in positive:
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if not self.num_lstm_nodes or min(self.num_lstm_nodes) < 1:
            raise UserError("--num_lstm_nodes needs one positive size per layer, e.g. 32,32")
        if not 0.0 < self.keep_prob <= 1.0:
            raise UserError(f"--keep_prob must be in (0, 1], got {self.keep_prob}")
        if self.learning_rate <= 0:
            raise UserError("--learning_rate must be positive")
        if not 0.0 <= self.embedding_dropout < 1.0 or not 0.0 <= self.label_smoothing < 1.0:
            raise UserError("--embedding_dropout and --label_smoothing must be in [0, 1)")
        if self.pooling != "last" and self.padding != "mask":
            raise UserError(f"--pooling={self.pooling} needs --padding=mask")
        if self.bucket_by_length and self.padding != "mask":
            raise UserError("--bucket_by_length needs --padding=mask (--padding=original pads "
                            "every batch to --num_timesteps)")
        if self.warmup_steps < 0 or self.weight_decay < 0 or self.early_stopping_evals < 0:
            raise UserError("--warmup_steps, --weight_decay and --early_stopping_evals must not "
                            "be negative")
        if self.warmup_steps >= self.num_train_steps and self.lr_schedule == "cosine":
            raise UserError("--warmup_steps must be below --num_train_steps")
        if self.clip_lstm_grads < 0 or self.num_word_threshold < 0 or self.max_vocab_size < 0:
            raise UserError("--clip_lstm_grads, --num_word_threshold and --max_vocab_size "
                            "must not be negative")
        if self.embedding_lr_scale <= 0:
            raise UserError("--embedding_lr_scale must be positive (to keep the embedding "
                            "fixed, use --freeze_embedding_steps)")
        if self.pretrained_max_tokens < 0 or self.freeze_embedding_steps < 0:
            raise UserError("--pretrained_max_tokens and --freeze_embedding_steps must not be "
                            "negative")
        if self.pretrained_embeddings:
            from textrnn.text import vectors
            dim = vectors.dimension(self.pretrained_embeddings)
            if dim != self.num_embedding_size:
                raise UserError(f"--num_embedding_size={self.num_embedding_size} but the vectors "
                                f"of {self.pretrained_embeddings} have {dim} dimensions; leave "
                                "--num_embedding_size out to take the file's")
        if self.wide_max_ngrams < 1 or self.wide_min_df < 1:
            raise UserError("--wide_max_ngrams and --wide_min_df must be at least 1")
        if self.wide_max_train_mb < 0:
            raise UserError("--wide_max_train_mb must not be negative (0: all of train)")
        calibration.check_alpha(self.conformal_alpha)
        calibration.check_target(self.abstain_target_accuracy)
        if not self.data_dir or not self.model_dir:
            raise UserError("--data_dir and --model_dir are required (see --help)")
        prepared.check(self.data_dir)
