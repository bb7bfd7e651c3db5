# Frontline: `make run` opens the console on a demo database, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 20000

.PHONY: run test install system-deps lint format typecheck bench clean messages catalogs

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

## Translations: extract the words into each domain's .pot and merge them into its .po files
## (`make messages`), then compile the .mo files shipped in the package (`make catalogs`).
DOMAINS := core:core:core/i18n/locale cli:console/commands:console/commands/locale console:console:console/locale
# click's own words (Usage:, Error: ...) are a fourth catalog, extracted from click's sources.
KEYWORDS := -k _ -k N_ -k ngettext:1,2 -k pgettext:1c,2 -k tr
messages: install
	@for d in $(DOMAINS); do \
		name=$${d%%:*}; rest=$${d#*:}; src=$${rest%%:*}; dir=$${rest#*:}; \
		ignore=""; [ "$$name" = console ] && ignore="--ignore-dirs=commands"; \
		extra=""; [ "$$name" = cli ] && extra="console/cli.py"; \
		$(BIN)/pybabel -q extract -F babel.cfg $(KEYWORDS) --no-location --sort-output $$ignore -o $$dir/$$name.pot $$src $$extra && \
		for lang in es es_ES es_419 es_MX en; do \
			if [ -f $$dir/$$lang/LC_MESSAGES/$$name.po ]; then \
				$(BIN)/pybabel -q update --no-fuzzy-matching -D $$name -i $$dir/$$name.pot -d $$dir -l $$lang; \
			else \
				$(BIN)/pybabel -q init -D $$name -i $$dir/$$name.pot -d $$dir -l $$lang; \
			fi; \
		done; \
	done
	@clicksrc=$$($(BIN)/python -c 'import click, os; print(os.path.dirname(click.__file__))'); \
	$(BIN)/pybabel -q extract $(KEYWORDS) --no-location --sort-output -o console/commands/locale/click.pot $$clicksrc && \
	for lang in es es_ES es_419 es_MX en; do \
		$(BIN)/pybabel -q update --no-fuzzy-matching -D click -i console/commands/locale/click.pot -d console/commands/locale -l $$lang; \
	done

catalogs: install
	@for d in $(DOMAINS); do \
		name=$${d%%:*}; rest=$${d#*:}; dir=$${rest#*:}; \
		$(BIN)/pybabel -q compile --statistics -D $$name -d $$dir; \
	done
	@$(BIN)/pybabel -q compile --statistics -D click -d console/commands/locale

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
