"""The in-graph segmenter cuts exactly as jieba.lcut(text, HMM=False) does."""

import random

import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_data
from textrnn.text import segmenter
from textrnn.text import tokenize


@pytest.fixture(scope="module")
def jieba_cut():
    return tokenize.jieba_tokenizer()


@pytest.fixture(scope="module")
def cut(jieba_cut, tmp_path_factory):
    """texts -> token lists through the graph."""
    seg = segmenter.JiebaSegmenter.from_jieba(jieba_cut, str(tmp_path_factory.mktemp("dict")))
    fn = tf.function(lambda x: seg(x).to_tensor(""),
                     input_signature=[tf.TensorSpec([None], tf.string)])

    def run(texts):
        rows = fn(tf.constant(texts, tf.string)).numpy() if texts else []
        return [[t.decode("utf-8") for t in row if t] for row in rows]
    return run


def reference(jieba_cut, text):
    """The issue's definition of what the graph must return."""
    return ["".join(t.split()) for t in jieba_cut.lcut(text, HMM=False) if not t.isspace()]


EXAMPLES = [
    "", " ", "\u3000\t\r\n", "我来到北京清华大学", "iPhone 14 Pro发布了，售价999美元!",
    "他说：“ABC123abc 你好”\u3000再见😀", "C++和C#是编程语言", "1.5%的增长率-_-",
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造", "ａｂｃ１２３全角字母",
    "a b\u00a0c\u2028d\x1ce", "南京市长江大桥", "结婚的和尚未结婚的", "\ufeff开头的BOM",
    "一" * 300, "x1y2z3中文abc", "。。。！！！", "\x00零字符\x00",
]


def test_examples_match_jieba(cut, jieba_cut):
    assert cut(EXAMPLES) == [reference(jieba_cut, t) for t in EXAMPLES]


def test_handles_batches_without_any_word(cut):
    assert cut([]) == []
    assert cut(["", "  ", "，。"]) == [[], [], ["，", "。"]]


# text built from dictionary words, Chinese characters, ASCII, the han-run
# symbols, punctuation of both widths, every whitespace character, emoji
_WORDS = ["中国", "科学院", "北京", "大学", "清华大学", "长江大桥", "市长", "和尚", "尚未",
          "结婚", "iPhone", "C++", "3G", "B超", "T恤", "的", "了", "是"]
_PIECES = st.one_of(
    st.sampled_from(_WORDS),
    st.sampled_from("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发"
                    "年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力"),
    st.sampled_from("abcxyzABCXYZ0123456789+#&._%-"),
    st.sampled_from("，。！？：；“”‘’（）【】《》、,.!?:;\"'()[]<>/\\@$^*=~`|"),
    st.sampled_from([chr(c) for c in segmenter.WHITESPACE] + ["\r\n"]),
    st.sampled_from("😀🎉👍🏻\u200d\ufe0f"),
    st.characters(blacklist_categories=("Cs",)),
)
_TEXTS = st.lists(_PIECES, max_size=30).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TEXTS, min_size=1, max_size=16))
def test_fuzzed_text_matches_jieba(cut, jieba_cut, texts):
    assert cut(texts) == [reference(jieba_cut, t) for t in texts]


@pytest.mark.parametrize("corpus,split", [("thucnews_titles", "test"), ("cnews", "test"),
                                          ("waimai_10k", "test"), ("tnews", "dev")])
def test_shared_corpora_sample_matches_jieba(cut, jieba_cut, corpus, split):
    # a sample here; benchmarks/segmenter_agreement.py compares every line
    lines = (shared_data(corpus) / f"{split}.txt").read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t", 1)[1] for line in random.Random(0).sample(lines, min(300, len(lines)))]
    got = cut(texts)
    assert got == [reference(jieba_cut, t) for t in texts]


def test_invalid_utf8_becomes_replacement_characters(cut):
    got = cut([b"\xff\xfe\xc3(\xe4\xb8\xad\xe5\x9b\xbd"])
    assert got == [["\ufffd", "\ufffd", "\ufffd", "(", "中国"]]


def test_user_dictionary_words_are_cut_whole(tmp_path):
    user_dict = tmp_path / "user.txt"
    user_dict.write_text("瓦力普斯特 10 n\n", encoding="utf-8")
    jieba_cut = tokenize.jieba_tokenizer(str(user_dict))
    seg = segmenter.JiebaSegmenter.from_jieba(jieba_cut, str(tmp_path))
    text = "瓦力普斯特来了"
    got = [t.decode("utf-8") for t in seg(tf.constant([text])).to_tensor("").numpy()[0]]
    assert got == reference(jieba_cut, text)
    assert "瓦力普斯特" in got
