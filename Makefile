# The README's two commands (`make examples`, `make test`) and what CI runs.
#
# Each target sets up what it needs on first use: a virtual environment in .venv, the
# package with its dev extra, and (for the test suite) the real ElizaOS server under
# tests/integration/eliza_server and the zep-cloud 3.x and 4.x SDKs, each in its own folder
# under .sessionmem-cache/zep-sdks (tests/integration/zep_sdks/envs.py). Set-up runs again only when pyproject.toml or the
# package-lock.json changes, so a second run goes straight to the tests.
#
#   make examples    the examples suite, from its committed cassettes
#   make test        the whole test suite (PYTEST_ARGS="-k cassette" to narrow it)
#   make lint        ruff (checks and formatting), and the layer contracts (lint-imports)
#   make typecheck   mypy (strict)
#   make setup       only the set-up

PYTHON ?= python3
VENV ?= .venv
PYTEST_ARGS ?=

BIN := $(VENV)/bin
INSTALLED := $(VENV)/.sessionmem-installed
ELIZA := tests/integration/eliza_server
ELIZA_INSTALLED := $(ELIZA)/node_modules/.package-lock.json
ZEP_SDKS := tests/integration/zep_sdks/envs.py
ZEP_SDKS_INSTALLED := .sessionmem-cache/zep-sdks/.built
# The HTML report is checked in a real headless Chromium, Debian's package.
CHROMIUM ?= chromium
APT_GET ?= apt-get

.PHONY: examples test lint typecheck setup chromium clean

examples: $(INSTALLED) $(ZEP_SDKS_INSTALLED)
	$(BIN)/python -m pytest examples $(PYTEST_ARGS)

test: $(INSTALLED) $(ELIZA_INSTALLED) $(ZEP_SDKS_INSTALLED) chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(INSTALLED)
	$(BIN)/mypy

setup: $(INSTALLED) $(ELIZA_INSTALLED) $(ZEP_SDKS_INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(ELIZA_INSTALLED): $(ELIZA)/package-lock.json
	npm ci --prefix $(ELIZA) --no-fund --no-audit --loglevel=error
	touch $@

$(ZEP_SDKS_INSTALLED): $(ZEP_SDKS) | $(INSTALLED)
	$(BIN)/python $(ZEP_SDKS)
	touch $@

# Installs Debian's chromium when it is missing (with sudo unless run as root).
chromium:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
		sudo_cmd=""; [ "$$(id -u)" -eq 0 ] || sudo_cmd="sudo"; \
		echo "installing Debian's chromium (headless checks of the HTML report)"; \
		$$sudo_cmd $(APT_GET) update -qq && \
		$$sudo_cmd env DEBIAN_FRONTEND=noninteractive \
			$(APT_GET) install -y -qq --no-install-recommends chromium; }

clean:
	rm -rf $(VENV) $(ELIZA)/node_modules .sessionmem-cache/zep-sdks
