"""A small, hand-made raw warehouse for the dbt tests.

`build_raw_fixture(path)` writes schema `raw` as dbt reads it (a table per extract with the
columns of the raw zone's files: the spec's, then the lineage columns) and a handful of rows
chosen so that every mart value can be worked out by hand (see tests/dbt/test_dbt_project.py for
the arithmetic). A row names the columns it fills; any other column stays NULL. The rows
cover:

- a re-delivered order line (both versions timestamped: the later `updated_at` wins),
- an activity re-delivered as cancelled (it leaves every fact and mart),
- an activity re-delivered as cancelled without `updated_at` in a later extract, after a
  version with one (not every version is timestamped: the later extract wins, so it is
  cancelled too),
- a credit note (negative revenue),
- two unpriced activities (FIELD_SERVICE before its first rate, 2025-01-01, in 2023 and
  2024),
- a new customer judged by its potential,
- a customer missing from the later snapshot (it keeps its last known attributes),
- a customer whose account manager changes (a second version of its history),
- an activity on the day a new rate becomes valid, and a half-cent rounding case,
- a description with a phone number and an e-mail address (masked in the marts).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb

from orchestration.lib.ingest.spec import SPECS


class Customer(NamedTuple):
    customer_id: str
    customer_name: str
    industry: str
    region: str
    account_manager: str
    country_code: str
    customer_since: str
    annual_potential_eur: str | None
    status: str | None
    updated_at: str | None
    extract_date: date


class Order(NamedTuple):
    order_id: str
    line_no: int
    customer_id: str
    order_date: str
    product_group: str
    net_revenue_eur: str
    cost_of_goods_eur: str | None
    updated_at: str | None
    extract_date: date


class Activity(NamedTuple):
    activity_id: str
    customer_id: str
    service_type_code: str
    activity_date: str
    duration_minutes: str
    participants: int | None
    employee_id: str
    billed_amount_eur: str | None
    description: str
    status: str | None
    updated_at: str | None
    extract_date: date


FIRST = date(2025, 3, 1)
SECOND = date(2026, 1, 5)


# fmt: off
CUSTOMERS = [
    Customer("C001", "Alpha GmbH", "machinery", "south", "AM1", "DE", "2015-03-01", "400000", None,
        "2025-01-01 08:00:00", FIRST),
    Customer("C002", "Beta KG", "chemicals", "north", "AM2", "DE", "2018-06-01", "100000", "active",
        "2025-01-01 08:00:00", FIRST),
    Customer("C004", "Delta SA", "food", "west", "AM1", "FR", "2010-01-01", None, None,
        None, FIRST),
    Customer("C005", "Epsilon AG", "retail", "east", "AM2", "AT", "2019-09-01", "50000", None,
        None, FIRST),
    # second snapshot: C001 renamed, C003 new, C004 missing (keeps its attributes), C005
    # moves to AM3
    Customer("C001", "Alpha AG", "machinery", "south", "AM1", "DE", "2015-03-01", "400000",
        "active", "2025-11-01 08:00:00", SECOND),
    Customer("C002", "Beta KG", "chemicals", "north", "AM2", "DE", "2018-06-01", "100000", "active",
        "2025-01-01 08:00:00", SECOND),
    Customer("C003", "Gamma Ltd", "energy", "north", "AM3", "GB", "2025-06-01", "200000", "active",
        "2025-06-01 08:00:00", SECOND),
    # C005 moves to account manager AM3: a new version in dim_customers_history
    Customer("C005", "Epsilon AG", "retail", "east", "AM3", "AT", "2019-09-01", "50000", None,
        None, SECOND),
]
# fmt: on

# fmt: off
ORDERS = [
    Order("O-0", 1, "C001", "2024-05-05", "pumps", "3000", "2000", None, FIRST),
    Order("O-9", 1, "C002", "2024-06-01", "valves", "1000", "500", None, FIRST),
    # first delivery of O-1/1, replaced by the re-delivery below (later updated_at)
    Order("O-1", 1, "C001", "2025-01-15", "pumps", "5000", None, "2025-02-01 10:00:00", FIRST),
    Order("O-3", 1, "C002", "2025-02-20", "valves", "1500", None, None, FIRST),
    Order("O-1", 1, "C001", "2025-01-15", "pumps", "6000", "4000", "2025-05-01 10:00:00", SECOND),
    Order("O-2", 1, "C001", "2025-04-10", "pumps", "2000", "1000", None, SECOND),
    Order("O-4", 1, "C003", "2025-07-01", "drives", "500", "300", None, SECOND),
    Order("O-5", 1, "C005", "2025-03-03", "valves", "-200", "0", None, SECOND),  # credit note
]
# fmt: on

# fmt: off
ACTIVITIES = [
    Activity("A1", "C001", "RESEARCH", "2025-02-01", "45", None, "E1", None,
        "Researched a spare part", None, None, FIRST),
    Activity("A2", "C001", "TRAINING", "2025-03-10", "120", 3, "E2", "100",
        "Pump training for three fitters", "done", None, SECOND),
    # personal data in free text: masked in every model, kept in raw
    Activity("A3", "C002", "HOTLINE", "2025-04-01", "30", None, "E3", "0",
        "Hotline: valve leaking, call back +49 171 1234567 or max.muster@beta-kg.de", None,
        None, SECOND),
    Activity("A4", "C002", "REPAIR", "2025-05-05", "60", None, "E4", "158.82",
        "Repaired valve, billed in full", "done", None, SECOND),
    Activity("A5", "C003", "MARKET_INFO", "2025-08-01", "0", None, "E1", None,
        "Market report", None, None, SECOND),
    # A6 first delivered as done, then re-delivered as cancelled
    Activity("A6", "C004", "RESEARCH", "2025-02-15", "60", None, "E1", None,
        "Research, later cancelled", "done", "2025-02-15 09:00:00", FIRST),
    Activity("A6", "C004", "RESEARCH", "2025-02-15", "60", None, "E1", None,
        "Research, later cancelled", "cancelled", "2025-02-20 09:00:00", SECOND),
    Activity("A7", "C004", "ORDER_CHANGE", "2025-10-10", "15", None, "E2", None,
        "Changed delivery date", None, None, SECOND),
    # no FIELD_SERVICE rate before 2025-01-01: unpriced
    Activity("A8", "C004", "FIELD_SERVICE", "2023-11-15", "60", None, "E5", "0",
        "Field service before the first rate", None, None, FIRST),
    Activity("A12", "C001", "FIELD_SERVICE", "2024-06-15", "90", None, "E5", "0",
        "Field service in 2024, before the first rate", None, None, FIRST),
    # A11 first delivered as done with updated_at, then re-delivered as cancelled without
    # one in the later extract: the later extract wins, A11 is cancelled
    Activity("A11", "C002", "HOTLINE", "2025-02-10", "30", None, "E3", None,
        "Hotline call, later cancelled", "done", "2025-02-10 09:00:00", FIRST),
    Activity("A11", "C002", "HOTLINE", "2025-02-10", "30", None, "E3", None,
        "Hotline call, later cancelled", "cancelled", None, SECOND),
    # on the valid_from day of HOTLINE-2025
    Activity("A9", "C001", "HOTLINE", "2025-01-01", "60", None, "E3", None,
        "New-year hotline call", None, None, FIRST),
    Activity("A10", "C002", "HOTLINE", "2024-12-31", "60", None, "E3", None,
        "Year-end hotline call", None, None, FIRST),
]
# fmt: on


def _insert(con: duckdb.DuckDBPyConnection, entity: str, rows: list[NamedTuple],
            **constants: str) -> None:
    """Insert `rows` into raw.<entity> by column name, with `constants` in every row and the
    lineage of their delivery: its extract date, file and line (header = line 1), load time."""
    lines: dict[date, int] = {}
    for row in rows:
        values = {**row._asdict(), **constants}
        extract = values.pop("extract_date")
        lines[extract] = lines.get(extract, 1) + 1
        values |= {
            "extract_date": extract,
            "source_file": f"{extract.isoformat()}/{entity}.csv",
            "line_number": lines[extract],
            "loaded_at": datetime(extract.year, extract.month, extract.day, 23, 0, 0),
        }
        columns = ", ".join(f'"{name}"' for name in values)
        marks = ", ".join("?" for _ in values)
        con.execute(f"insert into raw.{entity} ({columns}) values ({marks})", list(values.values()))


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Schema raw with a table per extract, columns as the raw zone's files hold them."""
    con.execute("create schema if not exists raw")
    for spec in SPECS.values():
        con.execute(f"create table raw.{spec.name} ({spec.table_ddl})")


def build_raw_fixture(path: str | Path) -> Path:
    """Create the raw tables of the fixture in a new DuckDB file at `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_raw_tables(con)
        _insert(con, "customers", CUSTOMERS)
        _insert(con, "orders", ORDERS)
        _insert(con, "service_activities", ACTIVITIES, department="service", channel="phone")
    finally:
        con.close()
    return path


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(build_raw_fixture(sys.argv[1] if len(sys.argv) > 1 else "fixture.duckdb"))
