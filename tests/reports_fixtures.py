"""A small, hand-made warehouse for the tests of the reports (export, charts, docs).

`build_reports_raw(path)` writes schema `raw` as the ingest creates it and the audit tables
with a few hand-made rows; dbt then builds the marts (see `reports_warehouse` in conftest.py).
Two deliveries, 2026-03-31 and 2026-11-22: 2026 is the running period, "Daten bis
22.11.2026"; 2025 and 2024 are complete.

Period 2026, with the 2026 rates of dbt_project/seeds/standard_cost_rates.csv
(HOTLINE 85.97/h; TRAINING 113.43/h + 179.11/event + 53.73/participant; REPAIR 109.85/h +
53.73/event; COMMISSIONING 125.38/h + 143.29/event; MARKET_INFO 41.79/event), standard cost =
minutes/60 * hourly + per event + participants * per participant, to the cent, half away
from zero:

  A01 K1 HOTLINE        60 min                          85.97, free
  A09 K1 HOTLINE        60 min                          85.97, free
  A02 K1 TRAINING      120 min, 2 part.  2*113.43 + 179.11 + 2*53.73 = 513.43, billed 300
                                          -> discounted, value transfer 213.43
  A03 K1 REPAIR         60 min           109.85 + 53.73 = 163.58, billed 200 -> billed, 0
  A04 K2 HOTLINE        30 min           42.985 -> 42.99, free
  A05 K3 COMMISSIONING 480 min           8*125.38 + 143.29 = 1146.33, free
  A06 K3 HOTLINE        90 min           128.955 -> 128.96, free
  A07 K4 MARKET_INFO     0 min           41.79, free
  A08 K6 HOTLINE        60 min           85.97, free

  9 activities, 960 minutes, 10 participants; standard cost 2294.99, billed 500.00,
  value transfer 1831.41 (K1 385.37, K2 42.99, K3 1275.29, K4 41.79, K5 0, K6 85.97).

Order lines 2026 (revenue / cost of goods -> contribution margin): K1 50000 / 30000 -> 20000,
K2 8000 / 5000 -> 3000, K3 2000 / 1500 -> 500, K5 a credit note -500 -> -500, K6 1000 / 600
-> 400; K4 has none (revenue 0).

Classic value 2026: K1 50000, K2 8000, K3 2000, K4 0 (zero value), K5 -500 (negative value),
K6 new (since 2026-05-01, within 12 months of 2026-12-31): potential 120000 * 0.25 = 30000 >
its revenue 1000, so it is valued by its potential.

Profit after service 2026 (margin - value transfer): K1 19614.63, K2 2957.01, K3 -775.29,
K4 -41.79, K5 -500.00, K6 314.03; total 21568.59.

Period 2025: A10 K1 HOTLINE 60 min at HOTLINE-2025 83.47, free. Period 2024: A11 K2
FIELD_SERVICE on 2024-06-15: the first FIELD_SERVICE rate is valid from 2025-01-01, so it is
unpriced.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.lib import audit
from tests.dbt_fixtures import create_raw_tables

FIRST, SECOND = date(2026, 3, 31), date(2026, 11, 22)

CUSTOMERS = [
    # customer_id, customer_name, customer_since, annual_potential_eur
    ("K1", "Anker Armaturen GmbH", "2010-01-01", "1000000"),
    ("K2", "Berg Pumpen KG", "2012-01-01", "50000"),
    ("K3", "Claas Chemie AG", "2015-01-01", "40000"),
    ("K4", "Dorn Technik GmbH", "2016-01-01", None),
    ("K5", "Eck Handel GmbH", "2017-01-01", None),
    ("K6", "Fink Neu GmbH", "2026-05-01", "120000"),
]

ORDERS = [
    # order_id, customer_id, order_date, net_revenue_eur, cost_of_goods_eur, extract date
    ("O24-1", "K2", "2024-03-01", "5000", "3000", FIRST),
    ("O25-1", "K1", "2025-03-01", "40000", "25000", FIRST),
    ("O26-1", "K1", "2026-02-01", "50000", "30000", FIRST),
    ("O26-2", "K2", "2026-03-01", "8000", "5000", FIRST),
    ("O26-3", "K3", "2026-05-01", "2000", "1500", SECOND),
    ("O26-4", "K5", "2026-06-01", "-500", "0", SECOND),
    ("O26-5", "K6", "2026-09-01", "1000", "600", SECOND),
]

ACTIVITIES = [
    # activity_id, customer_id, service_type_code, activity_date, minutes, participants,
    # billed_amount_eur, extract date
    ("A11", "K2", "FIELD_SERVICE", "2024-06-15", "60", None, "0", FIRST),
    ("A10", "K1", "HOTLINE", "2025-06-01", "60", None, "0", FIRST),
    ("A01", "K1", "HOTLINE", "2026-02-10", "60", None, "0", FIRST),
    ("A09", "K1", "HOTLINE", "2026-02-11", "60", None, None, FIRST),
    ("A02", "K1", "TRAINING", "2026-03-05", "120", 2, "300", FIRST),
    ("A03", "K1", "REPAIR", "2026-03-20", "60", None, "200", FIRST),
    ("A04", "K2", "HOTLINE", "2026-05-01", "30", None, "0", SECOND),
    ("A05", "K3", "COMMISSIONING", "2026-06-01", "480", None, "0", SECOND),
    ("A06", "K3", "HOTLINE", "2026-06-02", "90", None, "0", SECOND),
    ("A07", "K4", "MARKET_INFO", "2026-07-01", "0", None, "0", SECOND),
    ("A08", "K6", "HOTLINE", "2026-08-01", "60", None, "0", SECOND),
]

# rejected rows: one final, one resolved by the later delivery, one still open
# (the details in the words of lib/ingest/rules.py)
REJECTED = [
    # extract date, file, line, entity, reason, detail, is_open, resolved extract date
    (FIRST, "2026-03-31/orders.csv", 6, "orders", "invalid_number",
     "net_revenue_eur: '8000.00' is not a number", False, None),
    (FIRST, "2026-03-31/service_activities.csv", 8, "service_activities", "unknown_customer",
     "customer_id: 'K6' is in no customers snapshot loaded so far", False, SECOND),
    (SECOND, "2026-11-22/orders.csv", 5, "orders", "unknown_customer",
     "customer_id: 'K7' is in no customers snapshot loaded so far", True, None),
]


def _insert(con, entity: str, rows: list[dict]) -> dict[str, int]:
    """Insert rows into raw.<entity> with their lineage; the rows per file."""
    lines: dict[date, int] = {}
    per_file: dict[str, int] = {}
    for values in rows:
        extract = values.pop("extract_date")
        lines[extract] = lines.get(extract, 1) + 1
        source_file = f"{extract.isoformat()}/{entity}.csv"
        per_file[source_file] = per_file.get(source_file, 0) + 1
        values |= {"extract_date": extract, "source_file": source_file,
                   "line_number": lines[extract],
                   "loaded_at": datetime(extract.year, extract.month, extract.day, 23, 0)}
        columns = ", ".join(f'"{name}"' for name in values)
        marks = ", ".join("?" for _ in values)
        con.execute(f"insert into raw.{entity} ({columns}) values ({marks})",
                    list(values.values()))
    return per_file


def build_reports_raw(path: Path) -> Path:
    """The raw and audit tables of the fixture in a new DuckDB file at `path`."""
    con = duckdb.connect(str(path))
    try:
        create_raw_tables(con)
        audit.ensure_schema(con)
        files = {}
        for extract in (FIRST, SECOND):
            files |= _insert(con, "customers", [
                {"customer_id": cid, "customer_name": name, "customer_since": since,
                 "annual_potential_eur": potential, "extract_date": extract}
                for cid, name, since, potential in CUSTOMERS
            ])
        files |= _insert(con, "orders", [
            {"order_id": oid, "line_no": 1, "customer_id": cid, "order_date": day,
             "net_revenue_eur": revenue, "cost_of_goods_eur": cogs, "extract_date": extract}
            for oid, cid, day, revenue, cogs, extract in ORDERS
        ])
        files |= _insert(con, "service_activities", [
            {"activity_id": aid, "customer_id": cid, "service_type_code": code,
             "activity_date": day, "duration_minutes": minutes, "participants": participants,
             "billed_amount_eur": billed, "employee_id": "E1", "extract_date": extract}
            for aid, cid, code, day, minutes, participants, billed, extract in ACTIVITIES
        ])
        for extract, source_file, line, entity, reason, detail, is_open, resolved in REJECTED:
            con.execute(
                "insert into audit.rejected_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [extract, source_file, entity, line, reason, detail,
                 '{"id": "x"}', is_open,
                 datetime(2026, 11, 22, 23, 0) if resolved else None, resolved],
            )
        rejected = {}
        for _, source_file, *_rest in REJECTED:
            rejected[source_file] = rejected.get(source_file, 0) + 1
        for source_file, loaded in sorted(files.items()):
            extract = date.fromisoformat(source_file[:10])
            entity = source_file[11:-4]
            read = loaded + rejected.get(source_file, 0)
            audit.log_load(
                con, extract_date=extract, source_file=source_file, entity=entity,
                sha256="0" * 64, rows_read=read, rows_loaded=loaded,
                loaded_at=datetime(extract.year, extract.month, extract.day, 23, 0),
                dialect="standard", extra_columns=[], identical_to=None,
            )
            audit.record_expectations(con, extract, source_file, True)
    finally:
        con.close()
    return path
