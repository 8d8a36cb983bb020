"""`cvm --version`, and every command's `--help`: a description of what it does, and the
default of every option that has one."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from orchestration.cli import main

# the defaults each command's help must name (the options' own defaults)
DEFAULTS = {
    "generate-sample": ["--customers CUSTOMERS customers in the history (default: 120)",
                        "(default: 42)", "(default: utf8)", "(default: 2026-11-20)",
                        "nightly deltas after it (default: 3)"],
    "load": ["(default: $CVM_LANDING_DIR, else the demo's sample folder data/demo/landing)",
             "(default: $CVM_WAREHOUSE, else the demo's data/demo/warehouse.duckdb)",
             "(default: $CVM_ENGINE, else duckdb)"],
    "chart": ["(default: portfolio)", "(default: the latest)", "number formats (default: de)",
              "(default: reports/<kind>.png)"],
    "export": ["one CSV file per table (default: xlsx)", "the standard one (default: de)",
               "(default: the latest)"],
    "docs": ["folder of the site (default: data/docs)", "port of --serve (default: 8080)"],
    "serve": ["port to listen on (default: 8050)", "(default: 127.0.0.1)",
              "(default: $CVM_AUTH, else users)",
              "(default: $CVM_USERS_FILE, else data/cockpit-users.json)"],
    "statement": ["language of the statement (default: de)", "(default: the latest)"],
    "writeback": ["(default: the latest)",
                  "(default: reports/writeback/<target>-<period>-<date-time>.csv)"],
    "pull": ["(default: $CVM_SALESFORCE_URL)",
             "(default: Account, Order, OrderItem, Task, Event)"],
}


def test_version_names_the_project_and_its_tools(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    line = capsys.readouterr().out.strip()
    version = importlib.metadata.version
    assert line.startswith(f"cvm {version('customer-value-warehouse')} (dbt-core "
                           f"{version('dbt-core')}, dagster {version('dagster')}, duckdb ")


@pytest.mark.parametrize("command", sorted(DEFAULTS))
def test_every_command_has_a_description_and_its_defaults(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    text = re.sub(r"\s+", " ", capsys.readouterr().out)
    # between the usage and the options: a description of a sentence or more
    described = re.search(r"(?:\]|customer_id) ([A-Z][^\[\]]+?\.) (positional arguments|options):",
                          text)
    assert described and len(described.group(1)) > 60, text
    for default in DEFAULTS[command]:
        assert default in text, (command, default)
