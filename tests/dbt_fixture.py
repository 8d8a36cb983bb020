"""A small, hand-made raw warehouse for the dbt tests.

`build_raw_fixture(path)` writes schema `raw` with exactly the columns of
docs/architecture.md and a handful of rows chosen so that every mart value can be worked
out by hand (see tests/test_dbt_project.py for the arithmetic). The rows cover:

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
- an activity on the day a new rate becomes valid, and a half-cent rounding case,
- a description with a phone number and an e-mail address (masked in the marts).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

LINEAGE_DDL = "extract_date DATE, source_file VARCHAR, line_number BIGINT, loaded_at TIMESTAMP"

RAW_DDL = {
    "customers": (
        "customer_id VARCHAR, customer_name VARCHAR, industry VARCHAR, region VARCHAR, "
        "account_manager VARCHAR, country_code VARCHAR, customer_since DATE, "
        "annual_potential_eur DECIMAL(18,4), status VARCHAR, updated_at TIMESTAMP"
    ),
    "orders": (
        "order_id VARCHAR, line_no INTEGER, customer_id VARCHAR, order_date DATE, "
        "product_group VARCHAR, net_revenue_eur DECIMAL(18,4), cost_of_goods_eur DECIMAL(18,4), "
        "updated_at TIMESTAMP"
    ),
    "service_activities": (
        "activity_id VARCHAR, customer_id VARCHAR, service_type_code VARCHAR, "
        "activity_date DATE, duration_minutes DECIMAL(18,4), participants INTEGER, "
        "employee_id VARCHAR, department VARCHAR, channel VARCHAR, "
        "billed_amount_eur DECIMAL(18,4), description VARCHAR, status VARCHAR, "
        "updated_at TIMESTAMP"
    ),
}

FIRST = date(2025, 3, 1)
SECOND = date(2026, 1, 5)


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# fmt: off
# customer_id, customer_name, industry, region, account_manager, country_code,
# customer_since, annual_potential_eur, status, updated_at, extract_date
CUSTOMERS = [
    ("C001", "Alpha GmbH", "machinery", "south", "AM1", "DE", "2015-03-01", "400000", None,
     "2025-01-01 08:00:00", FIRST),
    ("C002", "Beta KG", "chemicals", "north", "AM2", "DE", "2018-06-01", "100000", "active",
     "2025-01-01 08:00:00", FIRST),
    ("C004", "Delta SA", "food", "west", "AM1", "FR", "2010-01-01", None, None,
     None, FIRST),
    ("C005", "Epsilon AG", "retail", "east", "AM2", "AT", "2019-09-01", "50000", None,
     None, FIRST),
    # second snapshot: C001 renamed, C003 new, C004 missing (keeps its attributes)
    ("C001", "Alpha AG", "machinery", "south", "AM1", "DE", "2015-03-01", "400000", "active",
     "2025-11-01 08:00:00", SECOND),
    ("C002", "Beta KG", "chemicals", "north", "AM2", "DE", "2018-06-01", "100000", "active",
     "2025-01-01 08:00:00", SECOND),
    ("C003", "Gamma Ltd", "energy", "north", "AM3", "GB", "2025-06-01", "200000", "active",
     "2025-06-01 08:00:00", SECOND),
    ("C005", "Epsilon AG", "retail", "east", "AM2", "AT", "2019-09-01", "50000", None,
     None, SECOND),
]
# fmt: on

# fmt: off
# order_id, line_no, customer_id, order_date, product_group, net_revenue_eur,
# cost_of_goods_eur, updated_at, extract_date
ORDERS = [
    ("O-0", 1, "C001", "2024-05-05", "pumps", "3000", "2000", None, FIRST),
    ("O-9", 1, "C002", "2024-06-01", "valves", "1000", "500", None, FIRST),
    # first delivery of O-1/1, replaced by the re-delivery below (later updated_at)
    ("O-1", 1, "C001", "2025-01-15", "pumps", "5000", None, "2025-02-01 10:00:00", FIRST),
    ("O-3", 1, "C002", "2025-02-20", "valves", "1500", None, None, FIRST),
    ("O-1", 1, "C001", "2025-01-15", "pumps", "6000", "4000", "2025-05-01 10:00:00", SECOND),
    ("O-2", 1, "C001", "2025-04-10", "pumps", "2000", "1000", None, SECOND),
    ("O-4", 1, "C003", "2025-07-01", "drives", "500", "300", None, SECOND),
    ("O-5", 1, "C005", "2025-03-03", "valves", "-200", "0", None, SECOND),  # credit note
]
# fmt: on

# fmt: off
# activity_id, customer_id, service_type_code, activity_date, duration_minutes,
# participants, employee_id, billed_amount_eur, description, status, updated_at, extract_date
ACTIVITIES = [
    ("A1", "C001", "RESEARCH", "2025-02-01", "45", None, "E1", None,
     "Researched a spare part", None, None, FIRST),
    ("A2", "C001", "TRAINING", "2025-03-10", "120", 3, "E2", "100",
     "Pump training for three fitters", "done", None, SECOND),
    # personal data in free text: masked in every model, kept in raw
    ("A3", "C002", "HOTLINE", "2025-04-01", "30", None, "E3", "0",
     "Hotline: valve leaking, call back +49 171 1234567 or max.muster@beta-kg.de", None, None,
     SECOND),
    ("A4", "C002", "REPAIR", "2025-05-05", "60", None, "E4", "158.82",
     "Repaired valve, billed in full", "done", None, SECOND),
    ("A5", "C003", "MARKET_INFO", "2025-08-01", "0", None, "E1", None,
     "Market report", None, None, SECOND),
    # A6 first delivered as done, then re-delivered as cancelled
    ("A6", "C004", "RESEARCH", "2025-02-15", "60", None, "E1", None,
     "Research, later cancelled", "done", "2025-02-15 09:00:00", FIRST),
    ("A6", "C004", "RESEARCH", "2025-02-15", "60", None, "E1", None,
     "Research, later cancelled", "cancelled", "2025-02-20 09:00:00", SECOND),
    ("A7", "C004", "ORDER_CHANGE", "2025-10-10", "15", None, "E2", None,
     "Changed delivery date", None, None, SECOND),
    # no FIELD_SERVICE rate before 2025-01-01: unpriced
    ("A8", "C004", "FIELD_SERVICE", "2023-11-15", "60", None, "E5", "0",
     "Field service before the first rate", None, None, FIRST),
    ("A12", "C001", "FIELD_SERVICE", "2024-06-15", "90", None, "E5", "0",
     "Field service in 2024, before the first rate", None, None, FIRST),
    # A11 first delivered as done with updated_at, then re-delivered as cancelled without
    # one in the later extract: the later extract wins, A11 is cancelled
    ("A11", "C002", "HOTLINE", "2025-02-10", "30", None, "E3", None,
     "Hotline call, later cancelled", "done", "2025-02-10 09:00:00", FIRST),
    ("A11", "C002", "HOTLINE", "2025-02-10", "30", None, "E3", None,
     "Hotline call, later cancelled", "cancelled", None, SECOND),
    # on the valid_from day of HOTLINE-2025
    ("A9", "C001", "HOTLINE", "2025-01-01", "60", None, "E3", None,
     "New-year hotline call", None, None, FIRST),
    ("A10", "C002", "HOTLINE", "2024-12-31", "60", None, "E3", None,
     "Year-end hotline call", None, None, FIRST),
]
# fmt: on


def _lineage(rows: list[tuple], entity: str) -> list[tuple]:
    """Append extract_date, source_file, line_number, loaded_at per delivery file."""
    out = []
    counters: dict[date, int] = {}
    for row in rows:
        extract = row[-1]
        counters[extract] = counters.get(extract, 1) + 1
        out.append(
            row[:-1]
            + (
                extract,
                f"{extract.isoformat()}/{entity}.csv",
                counters[extract],
                datetime(extract.year, extract.month, extract.day, 23, 0, 0),
            )
        )
    return out


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for table, ddl in RAW_DDL.items():
        con.execute(f"create or replace table raw.{table} ({ddl}, {LINEAGE_DDL})")


def build_raw_fixture(path: str | Path) -> Path:
    """Create (or replace) the raw tables of the fixture in the DuckDB file at `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_raw_schema(con)
        customers = [
            (r[0], r[1], r[2], r[3], r[4], r[5], _d(r[6]), r[7], r[8], _ts(r[9]), r[10])
            for r in CUSTOMERS
        ]
        orders = [(r[0], r[1], r[2], _d(r[3]), r[4], r[5], r[6], _ts(r[7]), r[8]) for r in ORDERS]
        activities = [
            (
                r[0],
                r[1],
                r[2],
                _d(r[3]),
                r[4],
                r[5],
                r[6],
                "service",
                "phone",
                r[7],
                r[8],
                r[9],
                _ts(r[10]),
                r[11],
            )
            for r in ACTIVITIES
        ]
        con.executemany(
            "insert into raw.customers values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _lineage(customers, "customers"),
        )
        con.executemany(
            "insert into raw.orders values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _lineage(orders, "orders"),
        )
        con.executemany(
            "insert into raw.service_activities values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _lineage(activities, "service_activities"),
        )
    finally:
        con.close()
    return path


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(build_raw_fixture(sys.argv[1] if len(sys.argv) > 1 else "fixture.duckdb"))
