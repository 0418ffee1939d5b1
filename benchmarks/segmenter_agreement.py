"""Agreement of the in-graph segmenter with jieba, on every line of the shared corpora.

    python benchmarks/segmenter_agreement.py --out benchmarks/results/segmenter_agreement.json

For each corpus of ../shared/data (every split, every line) and a seeded
random fuzz set (CJK, ASCII, digits, punctuation of both widths, every
whitespace character, emoji, empty strings), the tokens of the `tokenize`
signature of a word model's SavedModel (or, without --saved_model, of
textrnn.text.segmenter.JiebaSegmenter, the module that signature calls) are
compared with
`[''.join(t.split()) for t in jieba.lcut(text, HMM=False) if not t.isspace()]`.
Reported: lines, lines that differ (the target is none) with the first few,
and the time each side took.
"""

import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

CORPORA = ("thucnews_titles", "cnews", "waimai_10k", "tnews")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "segmenter_agreement.json"))
    parser.add_argument("--saved_model", default=None,
                        help="a word model's SavedModel whose `tokenize` signature is compared")
    parser.add_argument("--fuzz", type=int, default=20000, help="random texts in the fuzz set")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--quick", action="store_true",
                        help="the first 300 lines of each set (CI smoke)")
    return parser.parse_args()


def fuzz_texts(count, seed=0):
    from textrnn.text.segmenter import WHITESPACE
    rng = random.Random(seed)
    pieces = (["中国", "科学院", "北京", "清华大学", "长江大桥", "市长", "和尚", "尚未", "iPhone",
               "C++", "3G", "B超", "T恤", "\r\n", ""]
              + list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发")
              + list("abcxyzABCXYZ0123456789+#&._%-") + list("，。！？：；“”（）【】《》、,.!?:;\"'()[]")
              + [chr(c) for c in WHITESPACE] + list("😀🎉👍🏻\u200d\ufe0f\ufffd"))
    def anything():  # any code point but the surrogates, which UTF-8 cannot carry
        code = rng.randrange(0x20, 0x2FFFF)
        return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return ["".join(rng.choice(pieces) if rng.random() < 0.9 else anything()
                    for _ in range(rng.randrange(0, 40)))
            for _ in range(count)]


def corpus_texts(name):
    texts = []
    for split in ("train", "val", "dev", "test"):
        path = os.path.join(common.SHARED_DATA, name, f"{split}.txt")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as stream:
                texts += [line.rstrip("\n").split("\t", 1)[-1] for line in stream]
    return texts


def in_graph_tokens(saved_model):
    import tensorflow as tf
    if saved_model:
        signature = tf.saved_model.load(saved_model).signatures["tokenize"]
        return lambda texts: signature(text=tf.constant(texts))["tokens"]
    from textrnn.text import segmenter
    from textrnn.text import tokenize
    seg = segmenter.JiebaSegmenter.from_jieba(tokenize.jieba_tokenizer(), tempfile.mkdtemp())
    return tf.function(lambda x: seg(x).to_tensor(""),
                       input_signature=[tf.TensorSpec([None], tf.string)])


def compare(texts, cut, jieba_cut, batch_size):
    import tensorflow as tf
    differ, graph_seconds, jieba_seconds = [], 0.0, 0.0
    for i in range(0, len(texts), batch_size):
        batch = texts[i:i + batch_size]
        start = time.perf_counter()
        rows = cut(tf.constant(batch, tf.string)).numpy()
        graph_seconds += time.perf_counter() - start
        start = time.perf_counter()
        expected = [["".join(t.split()) for t in jieba_cut.lcut(text, HMM=False)
                     if not t.isspace()] for text in batch]
        jieba_seconds += time.perf_counter() - start
        for text, row, want in zip(batch, rows, expected):
            got = [t.decode("utf-8") for t in row if t]
            if got != want:
                differ.append(dict(text=text[:200], graph=got[:40], jieba=want[:40]))
    return dict(lines=len(texts), differing=len(differ), examples=differ[:5],
                graph_seconds=round(graph_seconds, 2), jieba_seconds=round(jieba_seconds, 2))


def main():
    args = parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start, log = common.timed_log()

    from textrnn.text import tokenize
    jieba_cut = tokenize.jieba_tokenizer()
    cut = in_graph_tokens(args.saved_model)
    result = dict(benchmark="in-graph jieba segmentation (HMM off) against jieba.lcut",
                  command=" ".join(["python"] + sys.argv), machine=common.machine_info(),
                  compared=f"tokenize signature of {args.saved_model}" if args.saved_model
                  else "textrnn.text.segmenter.JiebaSegmenter (what `tokenize` calls)", sets={})
    sets = {name: corpus_texts(name) for name in CORPORA}
    sets["fuzz"] = fuzz_texts(args.fuzz)
    if args.quick:
        sets = {name: texts[:300] for name, texts in sets.items()}
    result["quick"] = args.quick
    for name, texts in sets.items():
        if not texts:
            log(f"{name}: absent, skipped")
            continue
        result["sets"][name] = compare(texts, cut, jieba_cut, args.batch_size)
        log(f"{name}: {result['sets'][name]['differing']} of {len(texts):,} lines differ")
    result["lines"] = sum(s["lines"] for s in result["sets"].values())
    result["differing"] = sum(s["differing"] for s in result["sets"].values())
    common.finish(result, start, args.out, log)


if __name__ == "__main__":
    main()
