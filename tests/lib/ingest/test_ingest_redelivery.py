"""Re-deliveries of older folders, and a failed Great Expectations suite that keeps blocking."""

from __future__ import annotations

import duckdb

from orchestration.lib import audit
from orchestration.lib.ingest import expectations as gx_module
from orchestration.lib.ingest.loader import load_file, release_pending
from tests.ingest_fixtures import extract, record, write_file

D1, D2 = "2026-11-20", "2026-11-21"


def _customer(cid: str) -> str:
    return record("customers", customer_id=cid, customer_name=f"Name {cid}", country_code="DE",
                  customer_since="2020-01-01", annual_potential_eur="1000", status="active",
                  updated_at="2026-11-19T08:00:00")


def _order(oid: str, customer: str, day: str, revenue: str, updated: str) -> str:
    return record("orders", order_id=oid, line_no="1", customer_id=customer, order_date=day,
                  net_revenue_eur=revenue, updated_at=updated)


def test_reloading_an_older_folder_keeps_rows_whose_customer_arrived_later(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_file(tmp_path, D1, "customers", extract("customers", _customer("C1")))
    orders = [
        _order("O1", "C1", "2026-03-01", "100.00", "2026-03-01T10:00:00"),
        _order("O2", "C2", "2026-03-02", "200.00", "2026-03-02T10:00:00"),  # C2: no snapshot
    ]
    write_file(tmp_path, D1, "orders", extract("orders", *orders))
    for entity in ("customers", "orders"):
        load_file(con, tmp_path, D1, entity, run_expectations=False)
    write_file(tmp_path, D2, "customers",
               extract("customers", _customer("C1"), _customer("C2")))
    load_file(con, tmp_path, D2, "customers", run_expectations=False)
    assert release_pending(con, D2, "orders") == 1  # no orders file in D2: O2 released
    assert sorted(r[0] for r in con.execute("select order_id from raw.orders").fetchall()) == [
        "O1", "O2"]

    # a corrected re-delivery of the first folder: O1's revenue changes, O2's customer is known
    orders[0] = _order("O1", "C1", "2026-03-01", "150.00", "2026-03-05T10:00:00")
    write_file(tmp_path, D1, "orders", extract("orders", *orders))
    result = load_file(con, tmp_path, D1, "orders", run_expectations=False)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0)
    assert sorted(con.execute("select order_id, net_revenue_eur from raw.orders").fetchall()) \
        == [("O1", 150), ("O2", 200)]
    assert con.execute("select count(*) from audit.pending_orders").fetchone() == (0,)
    assert con.execute(
        "select count(*) from audit.rejected_rows where is_open").fetchone() == (0,)


def test_a_failed_suite_keeps_the_file_pending_until_it_passes(tmp_path, monkeypatch):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_file(tmp_path, D1, "customers", extract("customers", _customer("C1")))
    verdict = {"success": False}
    monkeypatch.setattr(
        gx_module, "validate_load",
        lambda con, spec, date, source_file, result: {spec.name: dict(verdict)},
    )
    first = load_file(con, tmp_path, D1, "customers")
    assert not first.skipped_unchanged
    con.close()
    log = audit.read_load_log(tmp_path / "w.duckdb")
    assert log[0].expectations_passed is False
    assert audit.loaded_files(log) == {}  # still pending for `cvm load`, the schedule

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    again = load_file(con, tmp_path, D1, "customers")  # same bytes: validated again
    assert not again.skipped_unchanged
    verdict["success"] = True
    fixed = load_file(con, tmp_path, D1, "customers")
    assert not fixed.skipped_unchanged
    assert load_file(con, tmp_path, D1, "customers").skipped_unchanged  # now it counts
    con.close()
    log = audit.read_load_log(tmp_path / "w.duckdb")
    assert list(audit.loaded_files(log)) == [f"{D1}/customers.csv"]
