# Documented shortcuts; each target is one command you can also run by hand.
.PHONY: help install demo test test-postgres lint format bench ci lock sbom audit production-smoke

VENV ?= .venv
PY := $(VENV)/bin/python

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

install: ## Create the virtualenv and install Borough with its development tools, as locked
	python3 -m venv $(VENV) && $(PY) -m pip install --require-hashes -r requirements/lock.txt \
		&& $(PY) -m pip install --no-deps -e .

demo: install ## Set up and serve the demo on http://127.0.0.1:8000
	$(VENV)/bin/borough demo

test: ## Run the tests on SQLite, with the browser journeys
	$(PY) -m pytest

test-postgres: ## Run the tests that use the database on the local PostgreSQL
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/borough $(PY) -m pytest -m "not e2e" --database-tests-only

lint: ## Check the code with ruff
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: ## Format the code with ruff
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: ## Run a benchmark: make bench NAME=synth [SIZE=1000000]
	$(PY) bench/run.py $(NAME) $(if $(SIZE),--size $(SIZE))

ci: ## What CI runs
	bash .ci/run

# The lock files: everything CI installs (requirements/lock.txt) and the production set
# (requirements/production.txt, the same versions), for every platform, with hashes.
# After changing pyproject.toml's dependencies run `make lock`; `make lock UPGRADE=1` moves
# every package to its newest allowed release.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade)

lock: ## Regenerate requirements/lock.txt and requirements/production.txt from pyproject.toml
	$(UV_COMPILE) --extra dev --extra production --extra bench --extra spark -o requirements/lock.txt
	# pip-audit asks for cachecontrol[filecache]; pip 23.2 (Python 3.11's) in --require-hashes mode
	# takes that extra as an unpinned requirement once PyPI has a newer cachecontrol than the lock's,
	# and refuses the install. Naming the extra on the pinned line keeps README's pip command working.
	sed -i 's/^cachecontrol==/cachecontrol[filecache]==/' requirements/lock.txt
	$(UV_COMPILE) --extra production -c requirements/lock.txt -o requirements/production.txt

sbom: ## Write the software bill of materials (CycloneDX JSON) of this environment to var/sbom.cdx.json
	mkdir -p var && $(VENV)/bin/cyclonedx-py environment --pyproject pyproject.toml \
		--output-reproducible --output-file var/sbom.cdx.json $(PY)

audit: ## Check the locked packages against PyPI's vulnerability data (says NOT AUDITED if unreachable)
	$(PY) .ci/audit.py requirements/lock.txt --report var/audit.json

production-smoke: ## Start the production settings under gunicorn on PostgreSQL and fetch pages
	bash .ci/production-smoke
