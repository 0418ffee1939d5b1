"""Raw text to tokens: reading labelled corpora, tokenizers, the in-graph jieba
segmenter and the vocabulary."""
