"""What the terminal says: English, ISO dates and one number format (thousands separated by
commas), whatever the language of the report it names."""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from orchestration.cli import main
from orchestration.defs.constants import delivery_partitions, raw_asset_key
from orchestration.defs.ingest.assets import raw_assets
from orchestration.defs.resources import WarehouseResource
from tests.e2e_fixtures import CUSTOMERS_D1, D1


def test_a_files_counts_have_thousands_separators(tmp_path, caplog):
    folder = tmp_path / "landing" / D1
    folder.mkdir(parents=True)
    header = CUSTOMERS_D1.splitlines()[0]
    rows = [f"K{n:05d},Kunde {n} GmbH,machinery,North,AM01,DE,2015-03-01,1000.00,active,"
            "2026-11-19T08:00:00" for n in range(1, 1235)]
    (folder / "customers.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(delivery_partitions.name, [D1])
    resource = WarehouseResource(landing_dir=str(tmp_path / "landing"),
                                 warehouse_path=str(tmp_path / "warehouse.duckdb"))
    with caplog.at_level(logging.INFO, logger="cvm.progress"):
        result = dg.materialize(raw_assets, selection=[raw_asset_key("customers")],
                                partition_key=D1, resources={"warehouse": resource},
                                instance=instance)
    assert result.success
    said = [record.getMessage() for record in caplog.records if record.name == "cvm.progress"]
    assert f"  {D1} customers: read 1,234, loaded 1,234, rejected 0" in said, said


def test_the_sample_counts_rows_per_file(tmp_path, capsys):
    out = tmp_path / "landing"
    assert main(["generate-sample", "--out", str(out), "--customers", "3", "--years", "1",
                 "--deltas", "0", "--seed", "7"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    # one delivery: a customers.csv with the 3 customers, and the rows the files hold
    lines = {name: len((out / "2026-11-20" / name).read_text(encoding="utf-8-sig")
                       .strip().splitlines()) - 1
             for name in ("customers.csv", "orders.csv", "service_activities.csv")}
    assert lines["customers.csv"] == 3
    assert last == (f"sample written to {out}: 1 delivery; rows: customers.csv 3, "
                    f"orders.csv {lines['orders.csv']:,}, service_activities.csv "
                    f"{lines['service_activities.csv']:,}")


@pytest.mark.slow
def test_reports_are_named_in_english_with_iso_dates(reports_warehouse, tmp_path, capsys):
    """A German chart or export still gets an English line with an ISO date on the terminal
    (the reports' warehouse: data through 2026-11-22)."""
    assert main(["chart", "--warehouse", str(reports_warehouse), "--lang", "de",
                 "--out", str(tmp_path / "p.png")]) == 0
    assert capsys.readouterr().out == (
        f"portfolio chart of 2026, data through 2026-11-22 written to {tmp_path / 'p.png'}\n")
    assert main(["export", "--warehouse", str(reports_warehouse), "--lang", "de",
                 "--out", str(tmp_path / "e.xlsx")]) == 0
    assert capsys.readouterr().out == (
        f"export of 2026, data through 2026-11-22 written to {tmp_path / 'e.xlsx'}\n")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_cockpit_server_logs_no_request_and_no_development_warning(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    from orchestration.settings import PROJECT_DIR

    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("cvm")), "serve", "--no-auth", "--port",
         str(port), "--warehouse", str(tmp_path / "none.duckdb")],
        cwd=PROJECT_DIR, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/portfolio", timeout=5)
                pytest.fail("a page of a missing warehouse answered 200")
            except urllib.error.HTTPError as answer:  # the server is up: no warehouse, 503
                assert answer.code == 503
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=5):
            pass
    finally:
        # SIGTERM, as a service manager stops it: it stops gracefully, exit code 0
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == [
        f"cockpit on http://127.0.0.1:{port}/portfolio  (warehouse {tmp_path / 'none.duckdb'}, "
        "read-only; Ctrl+C or SIGTERM stops it)",
        "sign-in: NONE - nobody is signed in and every customer is shown; this machine only "
        "(127.0.0.1)",
        "server: Waitress, 8 threads; requests are not logged, errors are; views and "
        "downloads go to the audit trail",
    ], out
