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
# The demo has paths of its own: it never touches $CVM_LANDING_DIR or $CVM_WAREHOUSE.
DEMO_LANDING := $(CURDIR)/data/demo/landing
DEMO_WAREHOUSE := $(CURDIR)/data/demo/warehouse.duckdb
UI_LANDING := $(or $(CVM_LANDING_DIR),$(DEMO_LANDING))
UI_WAREHOUSE := $(or $(CVM_WAREHOUSE),$(DEMO_WAREHOUSE))

.PHONY: demo test test-fast lint ui install clean

install: $(STAMP)

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned set from constraints.txt into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	@rm -rf $(CURDIR)/data/demo
	$(BIN)/cvm generate-sample --out $(DEMO_LANDING) --with-errors
	$(BIN)/cvm load --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE)
	$(BIN)/cvm chart --warehouse $(DEMO_WAREHOUSE) --out reports/portfolio.png

test: $(STAMP) lint
	$(BIN)/python -m pytest

# everything but the Spark suite (marker `spark`): for quick local work
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest -m "not spark"

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests
	cd dbt_project && ../$(BIN)/sqlfluff lint models macros tests analyses

ui: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@# without settings of your own, the UI shows the demo's landing root and warehouse
	@echo "Dagster UI: http://127.0.0.1:3000  (landing $(UI_LANDING), warehouse $(UI_WAREHOUSE))"
	CVM_LANDING_DIR=$(UI_LANDING) CVM_WAREHOUSE=$(UI_WAREHOUSE) \
		$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

clean:
	rm -rf data/demo data/dagster_home reports dbt_project/target dbt_project/logs
