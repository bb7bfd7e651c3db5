# Frontline: `make run` opens the console on a demo database, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 20000

.PHONY: run test install system-deps lint format typecheck bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Frontline needs Python 3.11 or newer (set PYTHON=python3.x)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) system-deps

## Kamailio and SIPp for the end-to-end SIP tests (apt; quick when already there).
system-deps:
	@scripts/install-system-deps

## Open the console; the first time, build a demo database to look at.
run: install
	$(BIN)/python -m compileall -q console core > /dev/null  # kept even with PYTHONDONTWRITEBYTECODE: a faster start
	$(BIN)/frontline db upgrade
	$(BIN)/frontline demo --if-empty --customers $(DEMO_CUSTOMERS)

## Every test: lint and layering contracts, then pytest (SQLite and PostgreSQL).
test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

## Performance figures (see benchmarks/README.md); slow, not part of `make test`.
bench: install
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
