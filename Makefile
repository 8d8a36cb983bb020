# Two commands for a newcomer: `make demo` and `make test`. Both create .venv on first use.
# `make test` runs the dbt project on Spark too (Java 17); `make test-fast` leaves Spark out.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml | sha256sum | cut -c1-12)

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
# The demo has paths of its own: it never touches $CVM_LANDING_DIR or $CVM_WAREHOUSE. Every
# other target leaves the paths to `cvm` (orchestration/settings.py): the option, else
# $CVM_LANDING_DIR / $CVM_WAREHOUSE, else the demo's.
DEMO_LANDING := $(CURDIR)/data/demo/landing
DEMO_WAREHOUSE := $(CURDIR)/data/demo/warehouse.duckdb

# the dbt manifest (`dbt parse`, by dagster-dbt) is prepared again whenever a file of the dbt
# project changed (orchestration/defs/dbt/project.py; `cvm load` checks the same by itself)
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -path dbt_project/logs \
	-prune -o -type f -print)
MANIFEST := dbt_project/target/manifest.json

.PHONY: demo test test-fast lint ui docs install cockpit manifest clean bench system-deps \
	system-deps-no-spark demo-portfolio demo-whale demo-export

install: $(STAMP)

manifest: $(MANIFEST)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	@$(BIN)/python -c "from orchestration.defs.dbt.project import dbt_project, prepared; \
		prepared(dbt_project)" > /dev/null
	@# dagster-dbt leaves a manifest that is up to date as it is: its time says it is now
	@touch $@

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned set from constraints.txt into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,pull]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(MANIFEST)
	@rm -rf $(CURDIR)/data/demo
	@# the demo's capacity data in the landing root's folder reference/: every load of it
	@# derives the two departments' rates from it instead of the seed's (empty) rows
	$(BIN)/cvm generate-sample --out $(DEMO_LANDING) --with-errors --native \
		--capacity-out $(DEMO_LANDING)/reference/capacity_inputs.csv
	$(BIN)/cvm load --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE)
	@# the two charts and the export read the published warehouse only: side by side, each
	@# one's lines together (make's --output-sync)
	@$(MAKE) --no-print-directory -j3 --output-sync=target demo-portfolio demo-whale demo-export
	@# last: the unused capacity per department, as a short table
	$(BIN)/cvm chart --kind capacity --warehouse $(DEMO_WAREHOUSE) --out reports/capacity.png

# the demo's reports that run side by side (`make demo` runs them)
demo-portfolio:
	$(BIN)/cvm chart --warehouse $(DEMO_WAREHOUSE) --out reports/portfolio.png
demo-whale:
	$(BIN)/cvm chart --kind whale --warehouse $(DEMO_WAREHOUSE) --out reports/whale.png
demo-export:
	$(BIN)/cvm export --warehouse $(DEMO_WAREHOUSE)

# The nightly benchmark: make bench SCALE="S0 S1 S2" [BENCH_ARGS="--demo --sample S2=DIR"], and
# SCALE=S3 (200,000 customers) when asked (the manifest first, so that no load pays for it)
SCALE ?= S0
bench: $(MANIFEST)
	$(BIN)/python bench/nightly_bench.py $(SCALE) $(BENCH_ARGS)

# the system packages first (Java, Chromium, poppler, Pango, a font, PostgreSQL): checked, and
# installed with apt-get where missing; where they cannot be, one line says what to install
# before anything else runs (scripts/system-deps)
# the 25 slowest tests and fixtures are listed at the end, to keep the suite's time in view;
# pytest runs on TEST_WORKERS pytest-xdist workers, each taking a whole module at a time, the
# longest modules first (tests/conftest.py: LONGEST_FIRST); TEST_WORKERS=0 runs in one process
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: system-deps $(MANIFEST) lint
	$(PYTEST) --durations=25

# everything but the Spark suite (marker `spark`): for quick local work (no Java needed)
test-fast: system-deps-no-spark $(MANIFEST) lint
	$(PYTEST) -m "not spark"

system-deps:
	@scripts/system-deps

system-deps-no-spark:
	@scripts/system-deps --no-spark

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests bench
	cd dbt_project && ../$(BIN)/sqlfluff lint models macros tests analyses

ui: $(MANIFEST)
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@# without settings of your own, the UI shows the demo's landing root and warehouse
	@$(BIN)/python -c "from orchestration import settings as s; \
		print(f'Dagster UI: http://127.0.0.1:3000  (landing {s.landing_dir()}, ' \
		      f'warehouse {s.warehouse_path()})')"
	$(BIN)/dagster dev -m orchestration.defs.definitions -h 127.0.0.1 -p 3000

cockpit: $(STAMP)
	@# without settings of your own, the cockpit shows the demo's warehouse (read-only), on
	@# this machine only and without sign-in (README "Sharing the cockpit" for a team)
	$(BIN)/cvm serve --no-auth --port $(or $(PORT),8050)

# the dbt docs of the published warehouse (the demo's without settings of your own), built
# from a read-only snapshot and served at http://127.0.0.1:8080
docs: $(MANIFEST)
	$(BIN)/cvm docs --out data/docs --serve

clean:
	rm -rf data/demo data/dagster_home data/docs reports dbt_project/target dbt_project/logs
