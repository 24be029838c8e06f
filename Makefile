# Webhook Bridge: `make test` on a fresh machine, `make dev` for the local stack.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000

.PHONY: install test lint typecheck unit dev bench build clean events mutate

$(STAMP): requirements-dev.txt layers/shared/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

# Every function's module is named app.py, as Lambda wants: they are checked one by one.
typecheck: install
	$(BIN)/mypy layers/shared/python/webhook_bridge devstack
	for app in functions/*/app.py; do $(BIN)/mypy "$$app" || exit 1; done

unit: install
	$(BIN)/pytest -n 2 --dist loadgroup -q

test: lint typecheck unit

dev: install
	PORT=$(PORT) $(BIN)/python -m devstack

bench: install
	$(BIN)/python -m benchmarks

# Mutation testing of the correctness core (docs/quality.md); slow, so not part of `make test`.
# MUTANTS narrows the run, e.g. make mutate MUTANTS='webhook_bridge.privacy*'
mutate: install
	$(BIN)/pip install --quiet -r requirements-mutate.txt
	$(BIN)/python scripts/mutate.py $(MUTANTS)

events: install
	$(BIN)/python scripts/make_events.py

build:
	PYENV_VERSION=3.12.1 sam build

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
