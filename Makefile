# Webhook Bridge: `make test` on a fresh machine, `make dev` for the local stack.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000

.PHONY: install test lint typecheck unit dev bench build clean events lock

$(STAMP): requirements-dev.txt $(wildcard layers/shared/*requirements.txt) layers/shared/runtime-provided.txt pyproject.toml
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

events: install
	$(BIN)/python scripts/make_events.py

build:
	PYENV_VERSION=3.12.1 sam build

# Re-resolve the layers' locks (with hashes) after editing layers/shared/*requirements.txt.
lock: install
	$(MAKE) -C layers/shared lock UV="$(abspath $(BIN))/uv"

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
