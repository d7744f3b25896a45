# Pathways: `make demo` runs everything on the demo borough; `make test` runs the tests.
# Both set the environment up on first use (uv from PyPI if absent, then the locked packages).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# uv from PATH, else the one pip installs into this Python (bootstrapped from PyPI on first use)
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds -type f 2>/dev/null) dbt_project/dbt_project.yml
# bytecode caching makes every later start of dagster/dbt several seconds faster
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup demo demo-small test lint ui refresh status bench clean notebook notebook-edit chart-images docs docs-serve \
	serve bench-web frontend browser-test-deps java bench-engines

setup: $(VENV)/.synced $(MANIFEST)

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv > /dev/null 2>&1 || python3 -m uv --version > /dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --python 3.11 --extra spark
	@# compile once: later starts stay fast even where PYTHONDONTWRITEBYTECODE is set
	@$(PY) -m compileall -q -j 2 $(VENV)/lib > /dev/null 2>&1 || true
	@touch $@

# dagster-dbt reads the manifest at import: build it before anything imports the definitions
$(MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	$(PY) -m pathways.cli dbt parse --quiet
	@touch $@

# PATHWAYS_ENGINE=spark (README: Running on Spark) needs Java: installed first when missing
ENGINE_DEPS := $(if $(filter spark,$(PATHWAYS_ENGINE)),java)

demo: setup $(ENGINE_DEPS)
	$(PY) -m pathways.cli demo

demo-small: setup $(ENGINE_DEPS)
	$(PY) -m pathways.cli demo --size small

refresh: setup $(ENGINE_DEPS)
	$(PY) -m pathways.cli refresh

status: setup
	$(PY) -m pathways.cli status

# speed and memory, printed (never asserted): the three sizes (~1.5 h); BENCH_SIZES=tiny,default for ~4 min
bench: setup
	$(PY) -m bench.benchmark

# the same dbt build on DuckDB and on Spark at growing sizes (printed, never asserted; README: Running on Spark)
bench-engines: setup java
	$(PY) -m bench.engines

# the linters, then the suite (CI runs this through .ci/run); `make test PYTEST_ARGS="-m 'not slow'"` for the fast part
test: setup lint browser-test-deps java
	$(PY) -m pytest $(PYTEST_ARGS)

# the Spark engine (its parity test, PATHWAYS_ENGINE=spark) runs PySpark, which needs Java 17 or later:
# Debian's headless JRE is installed with apt-get when missing (as root), as chromium is below
java:
	@{ command -v java > /dev/null 2>&1 && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; } || \
	  { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends openjdk-17-jre-headless || \
	    { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends openjdk-17-jre-headless; }; }; } || \
	  { echo "The Spark engine needs Java 17 or later: apt-get install openjdk-17-jre-headless (as root)" >&2; exit 1; }

# the scorecard's browser tests need Debian's chromium (installed with apt-get when missing, as root)
# and axe-core from npm (scorecard/frontend/package-lock.json)
browser-test-deps:
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium || \
	    { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium; }; }; } || \
	  { echo "The browser tests need chromium: apt-get install chromium (as root)" >&2; exit 1; }
	@command -v npm > /dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq npm; } || \
	  { echo "The browser tests need npm (for axe-core): apt-get install npm (as root)" >&2; exit 1; }
	@[ -f scorecard/frontend/node_modules/axe-core/axe.min.js ] || (cd scorecard/frontend && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/sqlfluff lint dbt_project/models --processes 2 --disable-progress-bar

ui: setup
	$(PY) -m pathways.cli ui

# the strategic performance group scorecard on http://127.0.0.1:8000, with demo sign-ins (run `make demo` first)
serve: setup
	$(PY) -m pathways.cli serve --demo

# page response times with 50 signed-in users on the demo publication (printed, never asserted)
bench-web: setup
	$(PY) -m bench.web

# rebuild the scorecard's committed static assets from npm (GOV.UK Frontend compiled for a service not on GOV.UK)
frontend:
	cd scorecard/frontend && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && \
	  npx sass --style=compressed --no-source-map --load-path=node_modules scorecard.scss ../static/scorecard.css && \
	  cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js ../static/

# open a notebook as an app (every cell runs on opening, a community picker at the top):
# make notebook NB=gap_explorer LC=LC03; make notebook-edit to change the notebook itself
NB ?= gap_explorer
LC ?= LC01
NB_PORT ?= 2718
notebook: setup
	cd notebooks && ../$(PY) -m marimo run $(NB).py --host 127.0.0.1 --port $(NB_PORT) -- --learning-community $(LC)

notebook-edit: setup
	cd notebooks && ../$(PY) -m marimo edit $(NB).py --host 127.0.0.1 --port $(NB_PORT) -- --learning-community $(LC)

# re-render the chart images in docs/images from the demo publication
chart-images: setup
	for nb in gap_explorer cohort_journey school_categorisation attendance; do \
	  PATHWAYS_CHART_DIR=$(CURDIR)/docs/images $(PY) notebooks/$$nb.py --learning-community LC03 > /dev/null || exit 1; done

# dbt's documentation site for the warehouse (models, columns, tests, lineage to the exposures),
# as one self-contained page; `make docs-serve` serves the same site on http://127.0.0.1:8080
docs: setup
	@test -f "$$($(PY) -c 'from config.settings import Settings; print(Settings().warehouse)')" || \
	  { echo "No warehouse yet: run 'make demo' (or a refresh) first; the site describes the built warehouse."; exit 1; }
	$(PY) -m pathways.cli dbt docs generate --static --target-path target/docs
	@echo "Documentation: open file://$(CURDIR)/dbt_project/target/docs/static_index.html in a browser (or: make docs-serve)"

docs-serve: docs
	$(PY) -m pathways.cli dbt docs serve --target-path target/docs --host 127.0.0.1 --port 8080 --no-browser

clean:
	chmod -R u+w data 2>/dev/null; rm -rf data .dagster dbt_project/target dbt_project/logs
