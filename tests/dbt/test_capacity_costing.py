"""Time-driven costing on a small load: hand-made capacity versions of one department.

The first end-to-end delivery (tests/e2e_deliveries.py, D1) with a copy of the dbt project
whose seed `capacity_inputs` gives the department `service` three capacity versions:

  SVC-2025    2025-01-01..2026-01-01  100,000.00 EUR  125,000 min * 0.80 = 100,000 practical
              -> 100,000.00 * 60 / 100,000 = 60.00 EUR per hour
  SVC-2026H1  2026-01-01..2026-07-01   45,000.00 EUR  1 person * 110 days * 450 min = 49,500
              min, share empty -> the var 0.80 = 39,600 -> 45,000.00 * 60 / 39,600 = 68.1818..
              -> 68.18 per hour
  SVC-2026H2  2026-07-01..2027-01-01   48,000.00 EUR  60,000 min * 0.80 = 48,000 -> 60.00

The cost changes mid-2026: two rate versions in 2026. The fixed parts stay the typed rates'
(REPAIR-2025 52.17, REPAIR-2026 53.73, COMMISSIONING-2026 143.29 per event). The service
department's activities of D1 (A11 is held: its customer is not delivered yet):

  A1  HOTLINE 2025-02-10        30 min * 60.00 / 60 = 30.00                  free
  A3  REPAIR 2025-04-01        120 min * 60.00 / 60 = 120.00 + 52.17 = 172.17, billed 300
  A4  COMMISSIONING 2026-01-01 240 min * 68.18 / 60 = 272.72 + 143.29 = 416.01 free
  A6  HOTLINE 2026-03-11        45 min * 68.18 / 60 = 51.135 -> 51.14        free
  A7  REPAIR 2026-04-02         90 min * 68.18 / 60 = 102.27 + 53.73 = 156.00 free
  A10 REPAIR 2026-06-01         60 min * 68.18 / 60 = 68.18 + 53.73 = 121.91, billed 163.58
  A9  COMMISSIONING 2026-07-02 480 min * 60.00 / 60 = 480.00 + 143.29 = 623.29 free

The departments `academy` and `R&D` have no capacity data and keep their typed rates:
  A2  TRAINING-2025  480 min * 110.13 / 60 + 173.89 + 6 * 52.17 = 881.04 + 173.89 + 313.02
                     = 1,367.95
  A5  JOINT_DEVELOPMENT-2026  960 min * 149.26 / 60 = 2,388.16
  A8  TRAINING-2026  240 min * 113.43 / 60 + 179.11 + 3 * 53.73 = 453.72 + 179.11 + 161.19
                     = 794.02, billed 200 -> discounted

department_capacity, service:
  2025: cost 100,000.00, practical 100,000, used 30 + 120 = 150, assigned 30.00 + 120.00 =
        150.00 (value transfer part 30.00), unused 99,850 min * 60.00 / 60 = 99,850.00,
        150.00 + 99,850.00 = 100,000.00 (rounding 0); non-practical 100,000.00 * 0.20.
  2026: cost 45,000.00 + 48,000.00 = 93,000.00, practical 39,600 + 48,000 = 87,600;
        H1 used 240 + 45 + 90 + 60 = 435, assigned 272.72 + 51.14 + 102.27 + 68.18 = 494.31,
           unused (39,600 - 435) * 68.18 / 60 = 44,504.495 -> 44,504.50;
        H2 used 480, assigned 480.00, unused (48,000 - 480) * 60.00 / 60 = 47,520.00;
        used 915, assigned 974.31, value transfer part 272.72 + 51.14 + 102.27 + 480.00 =
        906.13, unused 92,024.50, rounding 93,000.00 - 974.31 - 92,024.50 = 1.19 (the rate
        68.18 instead of 68.1818..: 39,600 * 68.18 / 60 = 44,998.80);
        non-practical 9,000.00 + 9,600.00 = 18,600.00.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from orchestration.lib.reports.capacity import (
    CapacityRow,
    capacity_chart,
    capacity_rows,
    capacity_table,
)
from orchestration.lib.reports.export import build_export
from orchestration.lib.reports.warehouse import Warehouse
from orchestration.runner import run_load
from orchestration.settings import PROJECT_DIR
from tests.e2e_fixtures import D1, write_delivery

pytestmark = pytest.mark.slow

CAPACITY = """\
capacity_id,department,valid_from,valid_to,capacity_cost_eur,theoretical_minutes,\
people,working_days,minutes_per_day,practical_share
SVC-2025,service,2025-01-01,2026-01-01,100000.00,125000,,,,0.80
SVC-2026H1,service,2026-01-01,2026-07-01,45000.00,,1,110,450,
SVC-2026H2,service,2026-07-01,2027-01-01,48000.00,60000,,,,0.8
"""


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    work = tmp_path_factory.mktemp("capacity")
    project = work / "dbt_project"
    shutil.copytree(PROJECT_DIR / "dbt_project", project,
                    ignore=shutil.ignore_patterns("target", "logs"))
    (project / "seeds" / "capacity_inputs.csv").write_text(CAPACITY, encoding="utf-8")
    landing, path = work / "landing", work / "warehouse.duckdb"
    write_delivery(landing, D1)
    lines: list[str] = []
    outcome = run_load(landing, path, echo=lines.append, dbt_project_dir=project)
    assert outcome.exit_code == 0, (outcome.error, lines)
    return path


class _Reader:
    def __init__(self, path):
        self.path = path

    def execute(self, sql: str):
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return _Rows(con.execute(sql).fetchall())
        finally:
            con.close()


class _Rows(list):
    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0]


@pytest.fixture(scope="module")
def warehouse(loaded):
    return _Reader(loaded)


def test_activities_priced_at_their_departments_derived_rate(warehouse):
    rows = warehouse.execute(
        "select activity_id, rate_id, rate_source, standard_cost_eur, transfer_kind "
        "from marts.fct_service_activities order by activity_date").fetchall()
    assert rows == [
        ("A1", "HOTLINE-2025@SVC-2025", "derived", D("30.00"), "free"),
        ("A3", "REPAIR-2025@SVC-2025", "derived", D("172.17"), "billed"),
        ("A2", "TRAINING-2025", "typed", D("1367.95"), "free"),
        ("A4", "COMMISSIONING-2026@SVC-2026H1", "derived", D("416.01"), "free"),
        ("A5", "JOINT_DEVELOPMENT-2026", "typed", D("2388.16"), "free"),
        ("A6", "HOTLINE-2026@SVC-2026H1", "derived", D("51.14"), "free"),
        ("A7", "REPAIR-2026@SVC-2026H1", "derived", D("156.00"), "free"),
        ("A8", "TRAINING-2026", "typed", D("794.02"), "discounted"),
        ("A10", "REPAIR-2026@SVC-2026H1", "derived", D("121.91"), "billed"),
        ("A9", "COMMISSIONING-2026@SVC-2026H2", "derived", D("623.29"), "free"),
    ]


def test_capacity_cost_rates_show_derived_and_typed(warehouse):
    rows = warehouse.execute(
        "select capacity_id, min(practical_minutes), min(hourly_rate_eur), count(*) "
        "from marts.capacity_cost_rates where rate_source = 'derived' "
        "group by capacity_id order by capacity_id").fetchall()
    # one derived rate per service type with a typed rate on the version's days
    assert [row[:3] for row in rows] == [
        ("SVC-2025", 100000, D("60.00")),
        ("SVC-2026H1", 39600, D("68.18")),
        ("SVC-2026H2", 48000, D("60.00")),
    ]
    typed = warehouse.execute(
        "select count(*) from marts.capacity_cost_rates where rate_source = 'typed'").fetchone()
    seed_rows = (PROJECT_DIR / "dbt_project" / "seeds" / "standard_cost_rates.csv").read_text(
        encoding="utf-8").strip().count("\n")
    assert typed == (seed_rows,)


def test_unused_capacity_and_the_reconciliation_to_the_cent(warehouse):
    rows = warehouse.execute(
        "select period_start::varchar, capacity_versions, capacity_cost_eur, "
        "practical_minutes, activities, used_minutes, free_minutes, billed_minutes, "
        "unused_minutes, assigned_cost_eur, value_transfer_cost_eur, "
        "unused_capacity_cost_eur, rate_rounding_eur, non_practical_cost_eur "
        "from marts.department_capacity where department = 'service' order by 1").fetchall()
    assert rows == [
        ("2025-01-01", 1, D("100000.00"), 100000, 2, D("150"), D("30"), D("120"),
         D("99850"), D("150.00"), D("30.00"), D("99850.00"), D("0.00"), D("20000.00")),
        ("2026-01-01", 2, D("93000.00"), 87600, 5, D("915"), D("855"), D("60"),
         D("86685"), D("974.31"), D("906.13"), D("92024.50"), D("1.19"), D("18600.00")),
    ]
    # departments without capacity data have no line
    assert warehouse.execute(
        "select count(*) from marts.department_capacity where department <> 'service'"
    ).fetchone() == (0,)


def test_export_marks_derived_rates_and_shows_the_capacity_sheet(loaded):
    export = build_export(loaded, "2026", lang="en")
    rates = {row[0]: row[1] for row in export.table("rates").rows}
    assert rates["REPAIR-2026@SVC-2026H1"] == "derived from capacity"
    assert rates["TRAINING-2026"] == "typed"
    assert export.table("capacity").rows == [
        ("service", D("93000.00"), 87600, D("915"), D("86685"), D("974.31"), D("906.13"),
         D("92024.50"), D("1.19"), D("18600.00")),
    ]
    checks = {row[0]: row[2:5] for row in export.table("reconciliation").rows}
    assert checks["Capacity cost: assigned + unused + rounding"] == (
        D("93000.00"), D("93000.00"), D("0"))
    assert all(difference == 0 for _, _, difference in checks.values())


def test_capacity_chart_draws_used_against_unused(loaded, tmp_path):
    with Warehouse(loaded).reader() as con:
        rows = capacity_rows(con, date(2026, 1, 1))
    # used 915 minutes: free 240 + 45 + 90 + 480 = 855, billed 60; unused 86,685
    assert rows == [CapacityRow("service", D("855"), D("0"), D("60"), D("0"), D("86685"),
                                D("92024.50"))]
    drawn = capacity_chart(loaded, tmp_path / "capacity.png", period="2026", lang="en")
    assert drawn.path.stat().st_size > 0 and drawn.label.startswith("2026")


def test_the_unused_capacity_table_of_the_terminal():
    # practical 87,600 min = 1,460.0 h, used 915 min = 15.25 h -> 15.2 (Python rounds the
    # half to even), unused 86,685 min = 1,444.75 h -> 1,444.8; 86,685 / 87,600 = 98.96 %
    rows = [CapacityRow("service", D("855"), D("0"), D("60"), D("0"), D("86685"),
                        D("92024.50"))]
    assert capacity_table(rows, "2026") == [
        "unused capacity of 2026:",
        "  department   practical h        used h      unused h   unused   unused cost EUR",
        "  service          1,460.0          15.2       1,444.8    99.0%         92,024.50"]
    assert capacity_table([], "2026") == [
        "unused capacity of 2026: no department has capacity data"]
