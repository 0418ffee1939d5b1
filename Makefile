# textrnn — `make train` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# make train                  the quick demo: data/demo with flags/demo.flags (jieba words)
# make train DATA=path        your data (train.txt, val.txt, test.txt): characters and
#                             textrnn-train --recipe=auto, which chooses every setting
# make train DATA=file.csv    one file (label<TAB>text, CSV, JSON Lines or fastText lines),
#                             split 80/10/10 by class into the prepared folder's raw/;
#                             PREPARE_ARGS="--encoding=gb18030 --text_column=review" etc.
# make train DATA=path FLAGS=flags/cnews.flags MODEL_DIR=runs/cnews/model
#                             your data with a recipe of your own (jieba words by default)
# make train DATA=path VECTORS=file
#                             start the embedding from pretrained vectors (word2vec text
#                             or binary, gzip or not), e.g. Tencent AI Lab's or fastText's
# make train DATA=path MULTI_LABEL=1
#                             several labels a text ('label1|label2<TAB>text'): sigmoid
#                             outputs and thresholds chosen on val
# TRAIN_ARGS adds flags to textrnn-train (they win over the recipe's choices).
ifdef FLAGS
RECIPE := --flagfile=$(FLAGS)
else ifeq ($(origin DATA),undefined)
RECIPE := --flagfile=flags/demo.flags
else
RECIPE := --recipe=auto
TOKENIZER ?= char
endif
DATA ?= data/demo
TOKENIZER ?= jieba
TRAIN_ARGS ?=
VECTORS ?=
VECTOR_ARGS := $(if $(VECTORS),--pretrained_embeddings=$(VECTORS))
MULTI_LABEL ?=
PREPARE_ARGS ?=
PREPARE_ALL := $(PREPARE_ARGS) $(if $(filter-out 0 no false,$(MULTI_LABEL)),--multi_label)
# val.txt, or dev.txt when the folder has no val.txt
VAL ?= $(firstword $(wildcard $(DATA)/val.txt $(DATA)/dev.txt) $(DATA)/val.txt)
# DATA is a folder of three splits, or one file that textrnn-prepare splits
ifeq ($(wildcard $(DATA)/.),)
INPUTS := --train=$(DATA)
else
INPUTS := --train=$(DATA)/train.txt --val=$(VAL) --test=$(DATA)/test.txt
endif
RUN ?= runs/$(basename $(notdir $(abspath $(DATA))))
PREPARED ?= $(RUN)/prepared
MODEL_DIR ?= $(RUN)/model
PYTEST_ARGS ?=
# One worker more than the cores (at most 5), each test file on one worker so its
# fixtures are built once: the extra worker keeps the cores busy while another waits on
# a subprocess, a service or a lock (each worker's TensorFlow runs one thread: conftest.py).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n + 1 : 5 )))
PYTEST_WORKERS ?= -n $(TEST_WORKERS) --dist loadfile

SHARED_DATA ?= ../shared/data
BENCH_OUT ?= benchmarks/results

.PHONY: bench-serving bench-serving-models bench-serving-run bench-serving-http gpu-check install train test test-unit bench bench-quick original thucnews clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

train: $(STAMP)
	$(BIN)/textrnn-prepare $(INPUTS) --tokenizer=$(TOKENIZER) --out_dir=$(PREPARED) $(PREPARE_ALL)
	$(BIN)/textrnn-train $(RECIPE) --data_dir=$(PREPARED) --model_dir=$(MODEL_DIR) $(VECTOR_ARGS) $(TRAIN_ARGS)

# Every test but the benchmarks' heaviest quick runs (marked bench; make bench-quick).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_WORKERS) -m "not bench" $(PYTEST_ARGS)

# The unit tier: no model trained, no process started (well under a minute).
test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m unit $(PYTEST_ARGS)

# The original recipe on the headlines, with its padding defect and without:
# what the port fixed, measured (about 10-20 minutes on two CPU cores).
original: $(STAMP)
	$(BIN)/textrnn-prepare --train=$(SHARED_DATA)/thucnews_titles/train.txt \
	  --val=$(SHARED_DATA)/thucnews_titles/dev.txt --test=$(SHARED_DATA)/thucnews_titles/test.txt \
	  --tokenizer=jieba --out_dir=runs/original/prepared
	$(BIN)/textrnn-train --flagfile=flags/original.flags --padding=original \
	  --data_dir=runs/original/prepared --model_dir=runs/original/unk_padding --export=false
	$(BIN)/textrnn-train --flagfile=flags/original.flags \
	  --data_dir=runs/original/prepared --model_dir=runs/original/masked --export=false

# The tuned headline model: words, characters and character pairs trained
# separately (flags/thucnews*.flags), exported as one SavedModel that averages
# them, scored on test (minutes on two CPU cores; its accuracy: BENCHMARKS.md).
HEADLINES := $(SHARED_DATA)/thucnews_titles
SEED ?= 1
thucnews: $(STAMP)
	$(BIN)/textrnn-prepare --train=$(HEADLINES)/train.txt --val=$(HEADLINES)/dev.txt \
	  --test=$(HEADLINES)/test.txt --tokenizer=jieba --out_dir=runs/thucnews/prepared_jieba
	$(BIN)/textrnn-prepare --train=$(HEADLINES)/train.txt --val=$(HEADLINES)/dev.txt \
	  --test=$(HEADLINES)/test.txt --tokenizer=char --out_dir=runs/thucnews/prepared_char
	$(BIN)/textrnn-prepare --train=$(HEADLINES)/train.txt --val=$(HEADLINES)/dev.txt \
	  --test=$(HEADLINES)/test.txt --tokenizer=bigram --out_dir=runs/thucnews/prepared_bigram
	$(BIN)/textrnn-train --flagfile=flags/thucnews.flags --seed=$(SEED) --export=false \
	  --data_dir=runs/thucnews/prepared_jieba --model_dir=runs/thucnews/word
	$(BIN)/textrnn-train --flagfile=flags/thucnews_char.flags --seed=$(SEED) --export=false \
	  --data_dir=runs/thucnews/prepared_char --model_dir=runs/thucnews/char
	$(BIN)/textrnn-train --flagfile=flags/thucnews_bigram.flags --seed=$(SEED) --export=false \
	  --data_dir=runs/thucnews/prepared_bigram --model_dir=runs/thucnews/bigram
	$(BIN)/textrnn-export --model_dir=runs/thucnews/word,runs/thucnews/char,runs/thucnews/bigram \
	  --export_dir=runs/thucnews/ensemble
	$(BIN)/textrnn-evaluate --saved_model=runs/thucnews/ensemble --input_file=$(HEADLINES)/test.txt

$(VENV)/.bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

# Every benchmark of BENCHMARKS.md, regenerated (hours on two CPU cores).
bench: $(VENV)/.bench
	$(BIN)/python benchmarks/peers.py --work_dir=runs/peers --out $(BENCH_OUT)/peers.json
	$(BIN)/python benchmarks/confidence.py --work_dir=runs/peers --rescore \
	  --out $(BENCH_OUT)/confidence.json
	$(BIN)/python benchmarks/peers_multilabel.py --work_dir=runs/peers_multilabel \
	  --out $(BENCH_OUT)/peers_multilabel.json
	$(BIN)/python benchmarks/thresholds.py --runs=runs/peers_multilabel \
	  --out $(BENCH_OUT)/thresholds.json
	$(BIN)/python benchmarks/accuracy.py --out $(BENCH_OUT)/accuracy.json
	$(BIN)/python benchmarks/speed.py --out $(BENCH_OUT)/speed.json
	$(BIN)/python benchmarks/prepare_speed.py --sizes_mb 8,16,32,64 --out $(BENCH_OUT)/prepare_speed.json
	$(BIN)/python benchmarks/segmenter_agreement.py --out $(BENCH_OUT)/segmenter_agreement.json
	$(MAKE) bench-serving
	$(MAKE) bench-serving-http
	$(BIN)/python benchmarks/memory.py --out $(BENCH_OUT)/memory.json
	$(BIN)/python benchmarks/vectors_pass.py --out $(BENCH_OUT)/vectors_pass.json
	$(BIN)/python benchmarks/api_overhead.py --out $(BENCH_OUT)/api_overhead.json
	$(BIN)/python benchmarks/explain.py --work_dir=runs/peers --out $(BENCH_OUT)/explain.json
	$(BIN)/python benchmarks/audit.py --max_texts=10000 --seeds=1,2,3 \
	  --recovery=thucnews_titles,waimai_10k --work_dir=runs/audit --out $(BENCH_OUT)/audit.json
	$(BIN)/python benchmarks/selection.py --out $(BENCH_OUT)/selection.json \
	  --plot $(BENCH_OUT)/selection.svg
	$(BIN)/python benchmarks/report.py --results $(BENCH_OUT) --write BENCHMARKS.md

# Serving speed, raw text in, of four models trained on the headlines: the
# original's sizes, the headline word recipe and the headline ensemble for 50
# steps (their speed does not depend on the weights); the default (auto) recipe
# in full, as `make train DATA=...` trains it, because its graph does: a path
# whose mixture weight val sets to 0 is left out of the SavedModel. Inputs are
# headlines, and cnews articles for the long-text rows (about 20 minutes).
SERVING := runs/bench/serving
SPEED_ONLY := --num_train_steps=50 --eval_every_steps=50 --checkpoint_every_steps=50 \
  --log_every_steps=50 --warmup_steps=0
SERVE_TEXTS := --texts=$(HEADLINES)/test.txt --long_texts=$(SHARED_DATA)/cnews/test.txt
bench-serving: bench-serving-models
	$(MAKE) bench-serving-run

bench-serving-models: $(VENV)/.bench
	for t in jieba char bigram; do $(BIN)/textrnn-prepare --train=$(HEADLINES)/train.txt \
	  --val=$(HEADLINES)/dev.txt --test=$(HEADLINES)/test.txt --tokenizer=$$t \
	  --out_dir=$(SERVING)/prepared_$$t --progress_every=0 || exit 1; done
	$(BIN)/textrnn-train --flagfile=flags/original.flags $(SPEED_ONLY) \
	  --data_dir=$(SERVING)/prepared_jieba --model_dir=$(SERVING)/original
	$(BIN)/textrnn-train --flagfile=flags/thucnews.flags $(SPEED_ONLY) --export=false \
	  --data_dir=$(SERVING)/prepared_jieba --model_dir=$(SERVING)/word
	$(BIN)/textrnn-train --flagfile=flags/thucnews_char.flags $(SPEED_ONLY) --export=false \
	  --data_dir=$(SERVING)/prepared_char --model_dir=$(SERVING)/char
	$(BIN)/textrnn-train --flagfile=flags/thucnews_bigram.flags $(SPEED_ONLY) --export=false \
	  --data_dir=$(SERVING)/prepared_bigram --model_dir=$(SERVING)/bigram
	$(BIN)/textrnn-export --model_dir=$(SERVING)/word
	$(BIN)/textrnn-export --model_dir=$(SERVING)/word,$(SERVING)/char,$(SERVING)/bigram \
	  --export_dir=$(SERVING)/ensemble
	$(BIN)/textrnn-train --recipe=auto \
	  --data_dir=$(SERVING)/prepared_char --model_dir=$(SERVING)/auto

bench-serving-run: $(VENV)/.bench
	$(BIN)/python benchmarks/serving.py --out $(BENCH_OUT)/serving.json $(SERVE_TEXTS) \
	  --saved_model=$(SERVING)/original/export --title="a word model at the original's sizes (flags/original.flags)"
	$(BIN)/python benchmarks/serving.py --out $(BENCH_OUT)/serving_word.json $(SERVE_TEXTS) \
	  --saved_model=$(SERVING)/word/export --title="the headline word model (flags/thucnews.flags)"
	$(BIN)/python benchmarks/serving.py --out $(BENCH_OUT)/serving_auto.json $(SERVE_TEXTS) \
	  --saved_model=$(SERVING)/auto/export --title="the default recipe (--recipe=auto: characters, wide & deep)"
	$(BIN)/python benchmarks/serving.py --out $(BENCH_OUT)/serving_thucnews_ensemble.json $(SERVE_TEXTS) \
	  --saved_model=$(SERVING)/ensemble --title="the headline ensemble: word + char + bigram members, one SavedModel"

# textrnn-serve over loopback HTTP (1, 8, 32 clients; 1- and 64-text requests) beside
# the in-process signature, for the original-size word model and the default recipe's
# model of bench-serving-models (a few minutes after them).
bench-serving-http: $(VENV)/.bench
	$(BIN)/python benchmarks/serving_http.py --texts=$(HEADLINES)/test.txt --target_share=0.1 \
	  --saved_model=$(SERVING)/original/export --out $(BENCH_OUT)/serving_http_original.json \
	  --title="a word model at the original's sizes (flags/original.flags)"
	$(BIN)/python benchmarks/serving_http.py --texts=$(HEADLINES)/test.txt --target_share=0.3 \
	  --saved_model=$(SERVING)/auto/export --out $(BENCH_OUT)/serving_http_auto.json \
	  --title="the default recipe (--recipe=auto: characters, wide & deep)"

# On a machine with a GPU: cuDNN float16 training, an export that runs on the CPU,
# serving, and training speed against PyTorch's CUDA LSTM (at most 8 minutes).
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py --out $(BENCH_OUT)/gpu_check.json

# The same scripts on tiny inputs (a few minutes): checks they run. make test runs all but
# those marked bench, whose invariants other tests check in process.
bench-quick: $(VENV)/.bench
	$(BIN)/python -m pytest -q tests/test_benchmarks.py tests/test_benchmark_accuracy.py \
	  tests/test_benchmark_trust.py

clean:
	rm -rf runs
