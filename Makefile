# Webhook Bridge: `make test` on a fresh machine, `make dev` for the local stack.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
# The SAM CLI lives in its own venv: its pinned dependencies would fight the dev ones,
# and `make test` does not need it.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
# Lambda processor for `make build` (the template's default); `make sam-local` builds for this machine.
ARCHITECTURE ?= arm64
HOST_ARCHITECTURE := $(if $(filter x86_64 amd64,$(shell uname -m)),x86_64,arm64)

.PHONY: install test lint typecheck unit dev bench build clean events mutate sam-install sam-local sam-local-down sam-test lock

$(STAMP): requirements-dev.txt $(wildcard layers/shared/*requirements.txt) layers/shared/runtime-provided.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

$(SAM_STAMP): requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $(SAM_STAMP)

sam-install: $(SAM_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

# Every function's module is named app.py, as Lambda wants: they are checked one by one.
typecheck: install
	$(BIN)/mypy layers/shared/python/webhook_bridge devstack
	for app in functions/*/app.py; do $(BIN)/mypy "$$app" || exit 1; done

# The Docker suite (marker docker) has its own target: it needs minutes and Docker.
unit: install
	$(BIN)/pytest -n 2 --dist loadgroup -q -m "not docker"

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

build: install sam-install
	$(BIN)/python -m devstack.sam_local build --architecture $(ARCHITECTURE) --sam $(SAM)

# moto and the vendor sandbox in Docker, for `sam local invoke` / `start-api` (README).
sam-local: install sam-install
	$(BIN)/python -m devstack.sam_local build --architecture $(HOST_ARCHITECTURE) --sam $(SAM)
	$(BIN)/python -m devstack.sam_local up --architecture $(HOST_ARCHITECTURE) --sam $(SAM)

sam-local-down: install
	$(BIN)/python -m devstack.sam_local down

# Every event through `sam local`; skips, saying why, without Docker or the Lambda image.
sam-test: install sam-install
	SAM_CLI=$(SAM) $(BIN)/pytest -m docker -q -n 0 tests/sam_local

# Re-resolve the layers' locks (with hashes) after editing layers/shared/*requirements.txt.
lock: install
	$(MAKE) -C layers/shared lock UV="$(abspath $(BIN))/uv"

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
