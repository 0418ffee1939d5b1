"""TrainConfig: every setting of a training run, checked, without absl.

`textrnn-train` fills it from its flags (train.py); tests, benchmarks and the
auto recipe build it directly.
"""

import dataclasses
import os

from textrnn import vocab
from textrnn.errors import UserError

# Flags that decide the shape of the model or its input: a run cannot resume
# under different values.
SHAPE_FIELDS = ("num_word_threshold", "max_vocab_size", "num_timesteps", "num_embedding_size",
                 "cell", "num_lstm_nodes", "bidirectional", "num_fc_nodes", "padding",
                 "pooling")


@dataclasses.dataclass
class TrainConfig:
    data_dir: str
    model_dir: str
    num_word_threshold: int = 10
    max_vocab_size: int = 0
    num_timesteps: int = 50
    num_embedding_size: int = 16
    cell: str = "lstm"
    num_lstm_nodes: tuple = (32, 32)
    bidirectional: bool = False
    num_fc_nodes: int = 32
    keep_prob: float = 0.8
    initializer: str = "original"
    pooling: str = "last"
    embedding_dropout: float = 0.0
    padding: str = "mask"
    learning_rate: float = 0.001
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    early_stopping_evals: int = 0
    clip_lstm_grads: float = 1.0
    batch_size: int = 100
    num_train_steps: int = 10000
    log_every_steps: int = 200
    eval_every_steps: int = 1000
    checkpoint_every_steps: int = 200
    shuffle_buffer: int = 10000
    cache: bool = False
    seed: int = 1
    jit_compile: bool = False
    export: bool = True
    strategy: str = "auto"
    num_cpu_devices: int = 1
    mixed_precision: str = "none"
    wide: bool = False
    wide_max_ngrams: int = 1_000_000
    wide_min_df: int = 1
    wide_refit: bool = True
    wide_words: bool = True
    wide_max_train_mb: float = 0.0

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
        if self.warmup_steps < 0 or self.weight_decay < 0 or self.early_stopping_evals < 0:
            raise UserError("--warmup_steps, --weight_decay and --early_stopping_evals must not "
                            "be negative")
        if self.warmup_steps >= self.num_train_steps and self.lr_schedule == "cosine":
            raise UserError("--warmup_steps must be below --num_train_steps")
        if self.clip_lstm_grads < 0 or self.num_word_threshold < 0 or self.max_vocab_size < 0:
            raise UserError("--clip_lstm_grads, --num_word_threshold and --max_vocab_size "
                            "must not be negative")
        if self.wide_max_ngrams < 1 or self.wide_min_df < 1:
            raise UserError("--wide_max_ngrams and --wide_min_df must be at least 1")
        if self.wide_max_train_mb < 0:
            raise UserError("--wide_max_train_mb must not be negative (0: all of train)")
        if not self.data_dir or not self.model_dir:
            raise UserError("--data_dir and --model_dir are required (see --help)")
        if not os.path.isfile(os.path.join(self.data_dir, vocab.MANIFEST_FILE)):
            raise UserError(f"--data_dir={self.data_dir} is not a textrnn-prepare output folder "
                            f"(no {vocab.MANIFEST_FILE}); run textrnn-prepare first")
