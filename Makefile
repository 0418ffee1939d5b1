# textrnn — `make train` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# make train DATA=path/to/raw FLAGS=flags/cnews.flags MODEL_DIR=runs/cnews/model
DATA ?= data/demo
FLAGS ?= flags/demo.flags
TOKENIZER ?= jieba
RUN ?= runs/$(notdir $(abspath $(DATA)))
PREPARED ?= $(RUN)/prepared
MODEL_DIR ?= $(RUN)/model
PYTEST_ARGS ?=

.PHONY: install train test bench bench-quick original clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

train: $(STAMP)
	$(BIN)/textrnn-prepare --train=$(DATA)/train.txt --val=$(DATA)/val.txt \
	  --test=$(DATA)/test.txt --tokenizer=$(TOKENIZER) --out_dir=$(PREPARED)
	$(BIN)/textrnn-train --flagfile=$(FLAGS) --data_dir=$(PREPARED) --model_dir=$(MODEL_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf runs
