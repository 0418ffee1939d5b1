"""Tokenizers: raw text -> list of tokens.

One implementation shared by `textrnn-prepare` (training data) and
`textrnn-predict` (new text), so a model always sees text cut the way it was
trained. Tokens never contain whitespace: prepared files join them with single
spaces, and the in-graph lookup splits on whitespace.

"bigram" cuts text into characters like "char", but its models embed each
pair of adjacent characters: the vocabulary counts pairs (vocabulary_units)
and the in-graph encoder forms them (ENCODER_SPLIT), so the same input string
serves char, bigram and word models alike.
"""

import functools
import logging
import os

TOKENIZERS = ("jieba", "char", "bigram")
# What every tokenizer, in Python and in the graph, drops as whitespace: exactly Python's
# str.isspace() (which jieba's re_skip \s follows too), as code points.
WHITESPACE = tuple(c for c in range(0x110000) if chr(c).isspace())
# How the in-graph TokenEncoder of a model of each tokenizer cuts its input.
ENCODER_SPLIT = {"jieba": "whitespace", "char": "chars", "bigram": "bigrams"}


def char_tokens(text):
    """Characters of `text`, whitespace dropped."""
    return [c for c in text if not c.isspace()]


def bigrams(chars):
    """Each pair of adjacent characters (none for a single character)."""
    return [a + b for a, b in zip(chars, chars[1:])]


def vocabulary_units(name, tokens):
    """What a model of tokenizer `name` embeds, given the tokens it was cut into."""
    return bigrams(tokens) if name == "bigram" else tokens


@functools.lru_cache(maxsize=4)
def _jieba(user_dict):
    import jieba  # imported lazily: loading its dictionary takes about a second
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if user_dict:
        tokenizer.load_userdict(user_dict)
    tokenizer.initialize()
    return tokenizer


def can_produce(name, token):
    """Whether tokenizer `name` can give `token` (as a vocabulary unit): a character for
    char models, a pair for bigram models, any word free of whitespace for jieba."""
    if not token or any(c.isspace() for c in token):
        return False
    return len(token) == {"char": 1, "bigram": 2}.get(name, len(token))


def jieba_tokenizer(user_dict=None):
    """The jieba.Tokenizer (its dictionary loaded, plus `user_dict`) textrnn cuts with."""
    return _jieba(user_dict or None)


def jieba_tokens(text, user_dict=None, hmm=False):
    """jieba's accurate-mode segmentation, whitespace dropped.

    HMM off by default: that is what the SavedModel's in-graph segmenter
    (textrnn.text.segmenter) reproduces, so served raw text is cut like training
    text. With the HMM on, jieba also joins runs of characters it has no
    word for, which the graph cannot reproduce.
    """
    tokens = _jieba(user_dict).lcut(text, HMM=hmm)
    return ["".join(t.split()) for t in tokens if not t.isspace()]


def uses_hmm(record):
    """Whether a manifest, model config or export info records words cut with
    jieba's HMM (all three record `jieba_hmm`)."""
    return bool(record.get("jieba_hmm"))


def check_user_dict(user_dict, why=""):
    """Raise a UserError when a jieba user dictionary is given but missing (`why`: what
    needs it, for the message)."""
    if user_dict and not os.path.isfile(user_dict):
        from textrnn.util.errors import UserError
        raise UserError(f"{user_dict}: jieba user dictionary not found{why}")


def get_tokenizer(name, user_dict=None, hmm=False):
    """A function text -> tokens for tokenizer `name` (see TOKENIZERS);
    `hmm` turns jieba's HMM on (jieba only)."""
    if name in ("char", "bigram"):
        return char_tokens
    if name == "jieba":
        check_user_dict(user_dict)
        return functools.partial(jieba_tokens, user_dict=user_dict or None, hmm=bool(hmm))
    raise ValueError(f"unknown tokenizer {name!r}; choose one of {TOKENIZERS}")
