# Set-up and everyday commands. Each target creates what it needs (virtualenv, redis-server) itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/gateway.yaml
SIMULATOR_PORT ?= 9100

.PHONY: run test lint typecheck bench eval check clean redis-server chromium lock models

# Without AZURE_OPENAI_ENDPOINT the gateway runs the local Azure simulator in-process and uses it.
run: $(STAMP)
	$(BIN)/gateway serve --config $(CONFIG) --local-simulator --simulator-port $(SIMULATOR_PORT)

test: $(STAMP) redis-server chromium
	$(BIN)/ruff check gateway tests scripts
	$(BIN)/ruff format --check gateway tests scripts
	$(BIN)/mypy
	# A fixed hash seed: the fuzz suite's generated examples depend on string hashing, so every run (and CI)
	# tries the same ones.
	PYTHONHASHSEED=1 $(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check gateway tests scripts
	$(BIN)/ruff format --check gateway tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/gateway check --config $(CONFIG)

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

# Agreement of the routing tree with the labelled evaluation set (tests/eval/), held-out part first, and the
# time of features plus decision. `$(BIN)/python -m tests.eval.run --misses` lists the tuning part's misses.
eval: $(STAMP)
	$(BIN)/python -m tests.eval.run

# Installs exactly the locked versions, every file checked against its hash; nothing is resolved anew.
# pip-sync removes what an older lock installed and this one no longer has.
$(STAMP): requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python3 -m venv failed: installing Debian's python3-venv"; \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --require-hashes -r requirements-dev.txt
	$(BIN)/pip-sync -q requirements-dev.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Re-resolves every dependency to its newest release within pyproject.toml's ranges and rewrites both locks:
# requirements.txt (what the gateway needs to run) and requirements-dev.txt (that, plus tests and tools,
# constrained to the same versions). Then run `make test` and commit the locks with what the upgrade needed.
LOCK_FLAGS := --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(STAMP)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.txt pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_FLAGS) --extra test --extra lock --extra otel --all-build-deps \
		-c requirements.txt -o requirements-dev.txt pyproject.toml

# Regenerates gateway/routing/models.yaml from the installed litellm's model data and the seed corrections in
# the script. Review the diff before committing it: it is what routing, limits and fallbacks will believe.
models: $(STAMP)
	$(BIN)/python -m scripts.generate_model_table

# The tests start their own redis-server processes on free ports; this only makes sure the binary exists.
redis-server:
	@command -v redis-server >/dev/null || { \
		echo "installing redis-server from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

# The /gateway/ui test drives a real headless Chromium through ChromeDriver (Debian's packages, no download at
# test time).
chromium:
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || { \
		echo "installing chromium and chromium-driver from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver >/dev/null; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
