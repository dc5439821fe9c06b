# Tokenomics: `make demo` and `make test` work on a machine that has only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOME_DIR := $(if $(TOKENOMICS_HOME),$(TOKENOMICS_HOME),$(CURDIR)/data)
EVENTS ?= 1000000
UI_PORT ?= 3000

.PHONY: install lock system-deps demo test lint ui bench validate clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## the virtualenv, with every dependency at the version requirements.lock pins

lock: $(STAMP)  ## re-resolve requirements.lock from pyproject.toml (keeps current pins; `make lock LOCK_FLAGS=--upgrade` moves them)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock --custom-compile-command "make lock" $(LOCK_FLAGS)

demo: $(STAMP)  ## generate a sample company, run every day through Dagster, print a summary
	TOKENOMICS_HOME=$(HOME_DIR) $(BIN)/tokenomics demo --home $(HOME_DIR)

system-deps:  ## Debian packages the tests start as real servers (installed only where missing, as root)
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (install them as root)"; exit 1; fi; \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

lint: $(STAMP)  ## ruff (lint and format) and mypy as configured in pyproject.toml (mypy: all of tokenomics/)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) system-deps  ## lint, then the whole pytest suite (starts PostgreSQL and an S3 API server on loopback)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

ui: $(STAMP)  ## the Dagster UI and daemon over the same home (http://127.0.0.1:$(UI_PORT))
	$(BIN)/python -m pipelines.instance $(HOME_DIR)/dagster
	DAGSTER_HOME=$(HOME_DIR)/dagster TOKENOMICS_HOME=$(HOME_DIR) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

validate: $(STAMP)  ## load the code location the way the UI does
	$(BIN)/dagster definitions validate -w workspace.yaml

bench: $(STAMP)  ## rows/s and peak memory per stage against a DuckDB baseline
	$(BIN)/python benchmarks/bench.py --events $(EVENTS)

clean:
	rm -rf $(VENV) .pytest_cache
