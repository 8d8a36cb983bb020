# Two commands for a newcomer: `make demo` and `make test`. Both create .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml | sha256sum | cut -c1-12)

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export CVM_LANDING_DIR ?= $(CURDIR)/data/landing
export CVM_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: demo test lint ui install clean sample load chart bench

install: $(STAMP)

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned set from constraints.txt into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	@rm -rf $(CVM_LANDING_DIR)
	$(BIN)/cvm generate-sample --out $(CVM_LANDING_DIR) --with-errors
	$(BIN)/cvm load --landing $(CVM_LANDING_DIR) --warehouse $(CVM_WAREHOUSE)
	$(BIN)/cvm chart --warehouse $(CVM_WAREHOUSE) --out reports/portfolio.png

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests
	cd dbt_project && ../$(BIN)/sqlfluff lint models macros tests analyses

ui: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	@cp -n orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml 2>/dev/null
	@echo "Dagster UI: http://127.0.0.1:3000"
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

clean:
	rm -rf data reports dbt_project/target dbt_project/logs
