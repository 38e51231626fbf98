# Set-up and everyday commands. Each target creates what it needs (virtualenv, redis-server) itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/gateway.yaml
SIMULATOR_PORT ?= 9100
SIMULATOR_KEY ?= simulator-key

.PHONY: run test lint typecheck bench check clean

run: $(STAMP)
	@if [ -z "$$AZURE_OPENAI_ENDPOINT" ]; then \
		echo "AZURE_OPENAI_ENDPOINT is unset: starting the local Azure simulator on 127.0.0.1:$(SIMULATOR_PORT)"; \
		$(BIN)/gateway simulate --port $(SIMULATOR_PORT) --api-key $(SIMULATOR_KEY) & simulator=$$!; \
		trap 'kill $$simulator 2>/dev/null' EXIT INT TERM; \
		AZURE_OPENAI_ENDPOINT=http://127.0.0.1:$(SIMULATOR_PORT) AZURE_OPENAI_API_KEY=$(SIMULATOR_KEY) \
			$(BIN)/gateway serve --config $(CONFIG); \
	else \
		$(BIN)/gateway serve --config $(CONFIG); \
	fi

test: $(STAMP) redis-server
	$(BIN)/ruff check gateway tests
	$(BIN)/ruff format --check gateway tests
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check gateway tests
	$(BIN)/ruff format --check gateway tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/gateway check --config $(CONFIG)

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python3 -m venv failed: installing Debian's python3-venv"; \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

# The tests start their own redis-server processes on free ports; this only makes sure the binary exists.
redis-server:
	@command -v redis-server >/dev/null || { \
		echo "installing redis-server from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
