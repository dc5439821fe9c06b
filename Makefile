# Tokenomics: `make demo` and `make test` work on a machine that has only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOME_DIR := $(if $(TOKENOMICS_HOME),$(TOKENOMICS_HOME),$(CURDIR)/data)
EVENTS ?= 1000000

.PHONY: install demo test ui bench validate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## generate a sample company, run every day through Dagster, print a summary
	TOKENOMICS_HOME=$(HOME_DIR) $(BIN)/tokenomics demo --home $(HOME_DIR)

test: $(STAMP)  ## the whole pytest suite
	$(BIN)/python -m pytest

ui: $(STAMP)  ## the Dagster UI over the same home (http://127.0.0.1:3000)
	mkdir -p $(HOME_DIR)/dagster && touch $(HOME_DIR)/dagster/dagster.yaml
	DAGSTER_HOME=$(HOME_DIR)/dagster TOKENOMICS_HOME=$(HOME_DIR) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

validate: $(STAMP)  ## load the code location the way the UI does
	$(BIN)/dagster definitions validate -w workspace.yaml

bench: $(STAMP)  ## rows/s and peak memory per stage against a DuckDB baseline
	$(BIN)/python benchmarks/bench.py --events $(EVENTS)

clean:
	rm -rf $(VENV) .pytest_cache
