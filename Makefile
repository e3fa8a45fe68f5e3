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

# The service: the database is created or migrated, then the scheduler and the web UI run together
# (http://127.0.0.1:8080/; HOST and PORT override). Ctrl-C stops both.
HOST ?= 127.0.0.1
PORT ?= 8080
run: install
	$(BIN)/monitor init
	$(BIN)/monitor run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check fetchers monitor web tests bench
	$(BIN)/mypy fetchers monitor web
	$(BIN)/pytest
