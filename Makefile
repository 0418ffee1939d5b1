# textrnn — `make train` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# make train                  the quick demo: data/demo with flags/demo.flags (jieba words)
# make train DATA=path        your data (train.txt, val.txt, test.txt): characters and
#                             textrnn-train --recipe=auto, which chooses every setting
# make train DATA=path FLAGS=flags/cnews.flags MODEL_DIR=runs/cnews/model
#                             your data with a recipe of your own (jieba words by default)
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
# val.txt, or dev.txt when the folder has no val.txt
VAL ?= $(firstword $(wildcard $(DATA)/val.txt $(DATA)/dev.txt) $(DATA)/val.txt)
RUN ?= runs/$(notdir $(abspath $(DATA)))
PREPARED ?= $(RUN)/prepared
MODEL_DIR ?= $(RUN)/model
PYTEST_ARGS ?=

SHARED_DATA ?= ../shared/data
BENCH_OUT ?= benchmarks/results

.PHONY: install train test bench bench-quick original thucnews clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

train: $(STAMP)
	$(BIN)/textrnn-prepare --train=$(DATA)/train.txt --val=$(VAL) \
	  --test=$(DATA)/test.txt --tokenizer=$(TOKENIZER) --out_dir=$(PREPARED)
	$(BIN)/textrnn-train $(RECIPE) --data_dir=$(PREPARED) --model_dir=$(MODEL_DIR) $(TRAIN_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
# them, scored on test (11 minutes on two quiet CPU cores, test accuracy 0.9101
# with SEED=1, measured in a fresh clone).
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
	$(BIN)/python benchmarks/peers.py --out $(BENCH_OUT)/peers.json
	$(BIN)/python benchmarks/accuracy.py --out $(BENCH_OUT)/accuracy.json
	$(BIN)/python benchmarks/speed.py --out $(BENCH_OUT)/speed.json
	$(BIN)/python benchmarks/prepare_speed.py --sizes_mb 8,16,32,64 --out $(BENCH_OUT)/prepare_speed.json
	$(BIN)/python benchmarks/serving.py --out $(BENCH_OUT)/serving.json
	$(BIN)/python benchmarks/serving.py --out $(BENCH_OUT)/serving_thucnews_ensemble.json \
	  --saved_model=runs/bench/accuracy/ensembles/thucnews_ensemble_seed1 \
	  --title="the THUCNews headline ensemble, seed 1: word + char + bigram members, one SavedModel"
	$(BIN)/python benchmarks/memory.py --out $(BENCH_OUT)/memory.json
	$(BIN)/python benchmarks/report.py --results $(BENCH_OUT) --write BENCHMARKS.md

# The same scripts on tiny inputs (a few minutes): checks they run; make test includes them.
bench-quick: $(VENV)/.bench
	$(BIN)/python -m pytest -q tests/test_benchmarks.py

clean:
	rm -rf runs
