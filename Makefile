# The two set-up commands of the README: `make run` and `make test`. Each installs what it needs.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test browser-deps office-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# The browser tests (tests/browser) drive Debian's Chromium through Playwright's Python package (never
# `playwright install`) and run axe-core from npm, kept in the git-ignored .venv/node.
CHROMIUM := /usr/bin/chromium
AXE_JS := $(VENV)/node/node_modules/axe-core/axe.min.js
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )apt-get

$(AXE_JS):
	@command -v npm >/dev/null || { $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq npm; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@4
	touch $@

browser-deps: $(AXE_JS)
	@test -x $(CHROMIUM) || { echo "Installing Chromium for the browser tests (apt-get install chromium)"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium; }

# The CSV export test opens the file in LibreOffice headless, as planners' tools would.
office-deps:
	@command -v soffice >/dev/null || { echo "Installing LibreOffice Calc for the export tests (apt-get)"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq libreoffice-calc-nogui; }

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test browser-deps office-deps

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
