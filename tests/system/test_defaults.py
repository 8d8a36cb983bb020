"""One rule for the paths of every command: the option, else the environment ($CVM_LANDING_DIR,
$CVM_WAREHOUSE), else the demo's (data/demo/landing, data/demo/warehouse.duckdb).

After `make demo`, every command without options works on the demo's warehouse: the load, the
charts, the export, the statement, the docs, the cockpit and the Dagster definitions.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.cli import main


@pytest.fixture()
def no_settings(monkeypatch):
    monkeypatch.delenv("CVM_WAREHOUSE", raising=False)
    monkeypatch.delenv("CVM_LANDING_DIR", raising=False)


def test_the_rule_option_then_environment_then_the_demo(no_settings, monkeypatch, tmp_path):
    project = settings.PROJECT_DIR
    assert settings.warehouse_path() == project / "data" / "demo" / "warehouse.duckdb"
    assert settings.landing_dir() == project / "data" / "demo" / "landing"

    monkeypatch.setenv("CVM_WAREHOUSE", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("CVM_LANDING_DIR", str(tmp_path / "env-landing"))
    assert settings.warehouse_path() == tmp_path / "env.duckdb"
    assert settings.landing_dir() == tmp_path / "env-landing"

    assert settings.warehouse_path(tmp_path / "opt.duckdb") == tmp_path / "opt.duckdb"
    assert settings.landing_dir(tmp_path / "opt-landing") == tmp_path / "opt-landing"


@pytest.mark.slow
def test_every_command_finds_the_demo_warehouse(reports_warehouse, no_settings, monkeypatch,
                                                tmp_path, capsys):
    # the demo's warehouse is where the rule looks last: here, the reports' warehouse
    monkeypatch.setattr(settings, "DEMO_WAREHOUSE", reports_warehouse)
    monkeypatch.setattr(settings, "DEMO_LANDING", tmp_path / "landing")

    # the readers open it for real
    assert main(["chart", "--out", str(tmp_path / "portfolio.png")]) == 0
    assert main(["chart", "--kind", "whale", "--out", str(tmp_path / "whale.png")]) == 0
    assert main(["export", "--format", "csv", "--out", str(tmp_path / "export")]) == 0
    assert main(["statement", "K1", "--out", str(tmp_path / "k1.pdf")]) == 0
    out = capsys.readouterr()
    assert "no published warehouse" not in out.err
    assert (tmp_path / "portfolio.png").exists() and (tmp_path / "whale.png").exists()
    assert (tmp_path / "k1.pdf").exists() and (tmp_path / "export").is_dir()

    # the load, the docs and the cockpit are handed the same path (their work is tested
    # elsewhere)
    handed = {}
    monkeypatch.setattr("orchestration.cli._run_load",
                        lambda args, landing, warehouse, engine: handed.update(
                            load=(landing, warehouse)) or 0)
    monkeypatch.setattr("orchestration.lib.docs_site.build_docs",
                        lambda warehouse, out: handed.update(docs=warehouse) or out / "x.html")
    monkeypatch.setattr("orchestration.cockpit.app.serve",
                        lambda warehouse, **options: handed.update(serve=warehouse))
    assert main(["load"]) == 0
    assert main(["docs", "--out", str(tmp_path / "docs")]) == 0
    assert main(["serve"]) == 0
    assert handed == {"load": (tmp_path / "landing", reports_warehouse),
                      "docs": reports_warehouse, "serve": reports_warehouse}

    # and `make ui`'s definitions
    from orchestration.defs.definitions import build_definitions

    resource = build_definitions().resources["warehouse"]
    assert Path(resource.warehouse_path) == reports_warehouse
    assert Path(resource.landing_dir) == tmp_path / "landing"


def test_the_make_targets_leave_the_paths_to_cvm():
    """`make cockpit`, `make docs` and `make ui` name no path of their own: cvm's rule holds."""
    result = subprocess.run(["make", "-n", "cockpit", "docs", "ui"], cwd=settings.PROJECT_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines()
                if "cvm serve" in line or "cvm docs" in line or "dagster dev" in line]
    assert len(commands) == 3, result.stdout
    for line in commands:
        assert "--warehouse" not in line and "CVM_WAREHOUSE=" not in line, line
        assert "--landing" not in line and "CVM_LANDING_DIR=" not in line, line
