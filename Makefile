# make run  — venv, pinned deps, migrate, demo data, serve on $(HOST):$(PORT)
# make test — the whole test suite (SQLite, or PostgreSQL when DATABASE_URL is set)
# make lint — ruff, mypy and the import contract; make lock — re-lock requirements*.txt from pyproject.toml

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export DAILYPAPERS_DATA_DIR ?= $(CURDIR)/data
# Links in mails (digests, confirmations) point where `make run` serves the site.
export DAILYPAPERS_BASE_URL ?= http://$(HOST):$(PORT)

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock install install-dev secret bench clean vendor

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# requirements.txt is the complete runtime lock, installed as it is (--no-deps): tokenizers declares
# huggingface_hub, which only the tests use, and resolving would pull it in unpinned.
$(STAMP): $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet --no-deps -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(STAMP)-dev: $(STAMP) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Installed by tokenizers' metadata but never imported at run time (only tests/test_hf_client.py uses the
# huggingface_hub client): kept out of the runtime lock, pinned in the dev one.
NOT_RUNTIME := huggingface-hub hf-xet fsspec pyyaml click filelock httpx2 httpcore2 truststore
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet --no-strip-extras --no-emit-index-url --no-emit-find-links

# Re-lock after editing the dependencies in pyproject.toml; existing pins are kept unless they must move
# (upgrade one with: make lock UPGRADE="--upgrade-package NAME").
lock: install-dev
	$(PIP_COMPILE) $(UPGRADE) $(NOT_RUNTIME:%=--unsafe-package %) -o requirements.txt pyproject.toml
	$(PIP_COMPILE) $(UPGRADE) --extra dev -c requirements.txt -o requirements-dev.txt pyproject.toml

install: $(STAMP)
install-dev: $(STAMP)-dev

# A random per-installation key, kept in the data dir (never a default secret).
secret:
	@mkdir -p -m 700 "$(DAILYPAPERS_DATA_DIR)"
	@test -n "$$SECRET_KEY" -o -s "$(DAILYPAPERS_DATA_DIR)/secret_key" || \
		(umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > "$(DAILYPAPERS_DATA_DIR)/secret_key")

run: install secret
	$(BIN)/dailypapers migrate --no-input
	$(BIN)/dailypapers collectstatic --no-input --verbosity 0
	$(BIN)/dailypapers demo --if-empty
	$(BIN)/dailypapers serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# One line per tool. mypy's Django plugin imports the settings, which want a key: any will do.
# lint-imports: the layers of ARCHITECTURE.md ([tool.importlinter] in pyproject.toml).
lint: install-dev
	$(BIN)/ruff check src tests bench scripts
	SECRET_KEY=lint-only $(BIN)/mypy
	$(BIN)/lint-imports

bench: install-dev
	$(BIN)/python bench/ingest_jsonl.py
	$(BIN)/python bench/daily_page_load.py
	$(BIN)/python bench/digest_send.py
	$(BIN)/python bench/search.py all
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/file_cache.py
	$(BIN)/python bench/keywords.py

clean:
	rm -rf $(VENV) build *.egg-info

# Re-vendor the pinned front-end packages (needs npm; the result is committed).
vendor:
	npm install --no-audit --no-fund --ignore-scripts
	rm -rf src/dailypapers/static/vendor/katex && mkdir -p src/dailypapers/static/vendor/katex
	cp -r node_modules/katex/dist/katex.min.css node_modules/katex/dist/katex.min.js node_modules/katex/dist/fonts node_modules/katex/LICENSE src/dailypapers/static/vendor/katex/
	rm -rf src/dailypapers/static/vendor/htmx && mkdir -p src/dailypapers/static/vendor/htmx
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE src/dailypapers/static/vendor/htmx/
	rm -rf src/dailypapers/static/vendor/axe-core && mkdir -p src/dailypapers/static/vendor/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE src/dailypapers/static/vendor/axe-core/
