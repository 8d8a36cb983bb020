"""Errors a person can act on: one line that names the path, file or line and the cause, a
non-zero exit, the traceback in the load's log file only; and what a load reports besides
(files that are none of the extracts, files skipped as unchanged, a log per load)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.lib import landing
from orchestration.lib.reports.summary import print_summary
from orchestration.lib.warehouse.store import Store, rotate_log
from tests.e2e_fixtures import D1, write_delivery


def _load(capsys, landing_dir: Path, warehouse: Path) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["load", "--landing", str(landing_dir), "--warehouse", str(warehouse)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def _said(lines: list[str]) -> list[str]:
    """The lines after the first two (the engine; the landing root and the warehouse)."""
    assert lines[0].startswith("engine: ") and lines[1].startswith("cvm load: landing ")
    return [line for line in lines[2:] if line.strip()]


def test_a_missing_landing_root_is_an_error(tmp_path, capsys):
    missing = tmp_path / "no-such-landing"
    code, lines = _load(capsys, missing, tmp_path / "warehouse.duckdb")
    assert code == 2
    assert _said(lines) == [f"cvm load: {missing}: the landing root does not exist "
                            "(set CVM_LANDING_DIR or --landing)"]


def test_a_warehouse_path_that_is_a_directory_is_an_error(tmp_path, capsys):
    write_delivery(tmp_path / "landing", D1)
    folder = tmp_path / "warehouse"
    folder.mkdir()
    code, lines = _load(capsys, tmp_path / "landing", folder)
    assert code == 2
    (line,) = _said(lines)
    assert line.startswith(f"cvm load: {folder}: the warehouse is a directory")
    assert not any(Path(folder).iterdir())  # nothing written into it


def test_a_warehouse_folder_that_cannot_be_written_is_an_error(tmp_path, capsys):
    write_delivery(tmp_path / "landing", D1)
    if os.geteuid() == 0:  # root writes anywhere but in /sys
        warehouse = Path("/sys/warehouse.duckdb")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        warehouse = locked / "warehouse.duckdb"
    code, lines = _load(capsys, tmp_path / "landing", warehouse)
    assert code == 2
    (line,) = _said(lines)
    store = Store(warehouse, "duckdb").root
    assert line.startswith(f"cvm load: {store}") or line.startswith(f"cvm load: {store}/")
    assert "the warehouse's folder cannot be written (" in line


@pytest.mark.slow
def test_a_refusal_is_one_line_and_its_traceback_goes_to_the_log(tmp_path, capsys):
    """orders.csv without its required column net_revenue_eur: one line names file and
    column; Dagster's stack traces are in cvm-load.log, not on the terminal."""
    landing_dir = tmp_path / "landing"
    write_delivery(landing_dir, D1)
    orders = landing_dir / D1 / "orders.csv"
    orders.write_text("order_id,line_no,customer_id,order_date,cost_of_goods_eur\n"
                      "O20,1,C1,2026-11-19,5\n", encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    code, lines = _load(capsys, landing_dir, warehouse)
    assert code == 1
    failed = [line for line in lines if "FAILED" in line]
    assert len(failed) == 1, lines
    assert f"{D1}/orders.csv" in failed[0] and "net_revenue_eur" in failed[0]
    # the reason is said once: the file's own progress line only says it was refused
    assert sum("net_revenue_eur" in line for line in lines) == 1, lines
    assert f"  {D1} orders: REFUSED" in lines
    # a first load: there is no published warehouse to be unchanged
    assert "(nothing published; no warehouse is published yet; details in " in failed[0]
    assert not any("Traceback" in line or "Stack Trace" in line for line in lines), lines
    log = Store(warehouse, "duckdb").log.read_text(encoding="utf-8")
    assert "Stack Trace" in log or "Traceback" in log
    assert "net_revenue_eur" in log
    assert not warehouse.exists()


@pytest.mark.slow
def test_another_failure_names_the_file_and_the_cause(tmp_path, capsys):
    """Where the next catalog goes (the store's folder `next`) is taken by a file: the one
    line names that path and the operating system's reason, not only the step."""
    landing_dir = tmp_path / "landing"
    write_delivery(landing_dir, D1)
    warehouse = tmp_path / "warehouse.duckdb"
    store = Store(warehouse, "duckdb")
    store.root.mkdir()
    (store.root / "next").write_text("in the way\n", encoding="utf-8")
    code, lines = _load(capsys, landing_dir, warehouse)
    assert code == 1
    (failed,) = [line for line in lines if "FAILED" in line]
    assert str(store.root / "next") in failed
    assert "FileExistsError" in failed or "NotADirectoryError" in failed
    assert "Error occurred while executing" not in failed
    assert not any("Traceback" in line or "Stack Trace" in line for line in lines), lines


def test_a_load_that_ended_short_says_what_it_left(tmp_path):
    """Nothing published: the warehouse as it was, or still none. Published before the load
    was stopped (another file now in the warehouse's place): that version, as its catalog
    says. Stopped before it held the writer's lock: whatever another load published meanwhile
    is not this load's."""
    from orchestration.lib.warehouse import catalog
    from orchestration.runner import NOT_HELD, _as_it_was, _published_file

    warehouse = tmp_path / "warehouse.duckdb"
    before = _published_file(warehouse)
    assert before is None
    assert _as_it_was(warehouse, before) == "nothing published; no warehouse is published yet"
    assert _as_it_was(warehouse, before, named=True) == (
        f"nothing published; no warehouse is published yet at {warehouse}")
    store = Store(warehouse, "duckdb")
    catalog.open_next(store, "s1")
    catalog.publish_next(store)  # version 1, in the place where none was
    assert _as_it_was(warehouse, before) == (
        "the published warehouse is version 1, published by this load")
    unchanged = "nothing published; the published warehouse is unchanged"
    assert _as_it_was(warehouse, NOT_HELD) == unchanged
    before = _published_file(warehouse)
    assert _as_it_was(warehouse, before) == unchanged
    assert _as_it_was(warehouse, before, named=True) == (
        f"nothing published; the published warehouse {warehouse} is unchanged")
    catalog.open_next(store, "s2")
    catalog.publish_next(store)
    assert _as_it_was(warehouse, before, named=True) == (
        f"the published warehouse {warehouse} is version 2, published by this load")


def test_files_that_are_none_of_the_extracts_are_reported(tmp_path):
    write_delivery(tmp_path / "landing", D1)
    folder = tmp_path / "landing" / D1
    (folder / "Orders_new.csv").write_text("order_id\n", encoding="utf-8")
    (folder / "readme.txt").write_text("note\n", encoding="utf-8")
    warnings: list[str] = []
    (delivery,) = landing.scan(tmp_path / "landing", warn=warnings.append)
    assert sorted(delivery.files()) == ["customers", "orders", "service_activities"]
    names = "customers.csv, orders.csv, service_activities.csv"
    assert warnings == [
        f"{folder / 'Orders_new.csv'}: not one of the extracts ({names}), not loaded",
        f"{folder / 'readme.txt'}: not one of the extracts ({names}), not loaded",
    ]


def test_the_summary_tells_files_loaded_from_files_skipped(reports_warehouse):
    lines: list[str] = []
    files = [
        {"source_file": "2026-11-22/customers.csv", "skipped_unchanged": False},
        {"source_file": "2026-11-22/orders.csv", "skipped_unchanged": True},
        {"source_file": "2026-11-22/service_activities.csv", "skipped_unchanged": False},
    ]
    print_summary(reports_warehouse, ["2026-11-22"], echo=lines.append, files=files)
    assert ("  files loaded in this run: 2 (2026-11-22/customers.csv, "
            "2026-11-22/service_activities.csv)") in lines
    assert ("  files unchanged since their last load, skipped: 1 "
            "(2026-11-22/orders.csv)") in lines


def test_each_load_starts_a_fresh_log_and_keeps_the_last_four(tmp_path):
    log = tmp_path / "cvm-load.log"
    for number in range(1, 7):  # six loads, each writes its number
        rotate_log(log)
        log.write_text(f"load {number}\n", encoding="utf-8")
    kept = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    assert kept == {"cvm-load.log": "load 6\n", "cvm-load.log.1": "load 5\n",
                    "cvm-load.log.2": "load 4\n", "cvm-load.log.3": "load 3\n",
                    "cvm-load.log.4": "load 2\n"}


@pytest.mark.parametrize("command", [
    ["chart"], ["chart", "--kind", "whale"], ["export"], ["statement", "K1"]])
@pytest.mark.parametrize("kind", ["missing", "not a database"])
def test_every_report_refuses_a_bad_warehouse_in_one_line_naming_it_once(
        tmp_path, capsys, command, kind):
    warehouse = tmp_path / "warehouse.duckdb"
    if kind == "not a database":
        warehouse.write_text("customer_id;name\n", encoding="utf-8")
    code = main([*command, "--warehouse", str(warehouse), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"cvm {command[0]}: {warehouse}: ")
    assert lines[0].count(str(warehouse)) == 1
    assert ("no published warehouse" if kind == "missing" else "cannot be read") in lines[0]
