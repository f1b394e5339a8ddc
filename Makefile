# Documented shortcuts; each target is one command you can also run by hand.
.PHONY: help install demo test test-postgres lint format bench ci

VENV ?= .venv
PY := $(VENV)/bin/python

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

install: ## Create the virtualenv and install Borough with its development tools
	python3 -m venv $(VENV) && $(PY) -m pip install -e ".[dev]"

demo: install ## Set up and serve the demo on http://127.0.0.1:8000
	$(VENV)/bin/borough demo

test: ## Run the tests on SQLite, with the browser journeys
	$(PY) -m pytest

test-postgres: ## Run the tests on the local PostgreSQL
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/borough $(PY) -m pytest -m "not e2e"

lint: ## Check the code with ruff
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: ## Format the code with ruff
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: ## Run a benchmark: make bench NAME=synth [SIZE=1000000]
	$(PY) bench/run.py $(NAME) $(if $(SIZE),--size $(SIZE))

ci: ## What CI runs
	bash .ci/run
