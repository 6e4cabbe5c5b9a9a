# Two commands: `make run` serves the demo on SQLite (with the worker), `make test` runs
# every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# Four pytest workers (pytest-xdist) on two cores: the tests wait on PostgreSQL, chromium and
# servers of their own, so two per core keep both busy (5.4 min against 7.5 min with two,
# docs/benchmarks.md). Each worker builds its own databases.
PYTEST_WORKERS ?= 4

.PHONY: run test lint bench system-packages vendor test-vendor screens clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@ $(VENV)/.installed-run

# Browser libraries from the npm registry, served by the app itself (no CDN).
VENDOR := web/static/vendor
SWAGGER_UI := $(VENDOR)/swagger-ui
VENDORED := $(VENDOR)/jsQR.js $(VENDOR)/chart.umd.js $(SWAGGER_UI)/swagger-ui-bundle.js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDORED): node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/jsqr/dist/jsQR.js $(VENDOR)/jsQR.js
	cp node_modules/chart.js/dist/chart.umd.js $(VENDOR)/chart.umd.js
	mkdir -p $(SWAGGER_UI)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js \
	   node_modules/swagger-ui-dist/swagger-ui.css $(SWAGGER_UI)/

vendor: $(VENDORED)

# axe-core checks the pages' accessibility in the browser tests only: never served by the app.
AXE := tests/vendor/axe.min.js

$(AXE): node_modules/.package-lock.json
	mkdir -p tests/vendor
	cp node_modules/axe-core/axe.min.js $(AXE)

test-vendor: vendor $(AXE)

# The web server and the worker (periodic jobs) side by side; Ctrl-C stops both. `exec`: the
# script is make's own child, so the SIGTERM make passes on when it is stopped reaches it.
run: $(VENV)/.installed-run vendor
	exec env BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) ./scripts/run-demo

system-packages:
	./scripts/install-system-packages

test: $(VENV)/.installed-test system-packages test-vendor
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# docs/screens/: every page of every role at 390 px, for reviewers (scripts/screens.py).
screens: $(VENV)/.installed-test vendor
	$(BIN)/python scripts/screens.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# wrk (Debian's C load generator) drives bench/http_bench.py; installed when missing and root.
bench: $(VENV)/.installed-test
	command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || apt-get install -y wrk
	$(BIN)/python bench/ledger_bench.py
	PYTHONPATH=. $(BIN)/python bench/http_bench.py
	PYTHONPATH=. $(BIN)/python bench/reads_bench.py
	PYTHONPATH=. $(BIN)/python bench/budget_bench.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) tests/vendor build *.egg-info .pytest_cache .ruff_cache .hypothesis
