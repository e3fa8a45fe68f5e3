# The two set-up commands of the README: `make run` and `make test`. Each installs what it needs.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Until the scheduler and web UI land (issues 5 and 6), `make run` initialises the database and
# prints the status of every indicator; it will then start `monitor run` (scheduler + web).
run: install
	$(BIN)/monitor init
	$(BIN)/monitor status

test: install-test
	$(BIN)/ruff check fetchers monitor web tests bench
	$(BIN)/mypy fetchers monitor web
	$(BIN)/pytest
