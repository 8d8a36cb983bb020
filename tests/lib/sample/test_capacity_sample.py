"""The sample's capacity data (orchestration/lib/sample/capacity.py), worked out by hand.

One person: 220 days * 450 minutes = 99,000 theoretical minutes, 0.80 of them = 79,200
practical, used to 0.75 = 59,400 minutes, at 84,000.00 EUR a year in Anwendungstechnik and
66,000.00 EUR in Innendienst.
"""

from __future__ import annotations

import csv
from datetime import date

import numpy as np

from orchestration.lib.sample.capacity import UsedMinutes, capacity_rows, write_capacity
from orchestration.lib.sample.generator import generate_sample
from orchestration.lib.sample.reference import day_number
from orchestration.lib.warehouse import reference_inputs
from orchestration.settings import SEEDS_DIR


def test_people_cover_the_used_minutes_at_three_quarters_use():
    rows = capacity_rows({
        ("Anwendungstechnik", 2025): 59_400,  # exactly one person
        ("Anwendungstechnik", 2026): 59_401,  # a minute more: 1.01 people (rounded up)
        ("Innendienst", 2025): 594,  # 0.01 people
        ("Vertrieb", 2025): 10_000,  # no capacity data for this department
    })
    assert [(r["capacity_id"], r["department"], r["valid_from"], r["valid_to"], r["people"],
             r["capacity_cost_eur"], r["practical_share"]) for r in rows] == [
        ("ANW-2025", "Anwendungstechnik", "2025-01-01", "2026-01-01", "1.00", "84000.00", "0.80"),
        ("ANW-2026", "Anwendungstechnik", "2026-01-01", "2027-01-01", "1.01", "84840.00", "0.80"),
        ("INN-2025", "Innendienst", "2025-01-01", "2026-01-01", "0.01", "660.00", "0.80"),
    ]
    # the rates the warehouse derives: 84,000.00 * 60 / 79,200 = 63.64 and 66,000.00 * 60 /
    # 79,200 = 50.00 per hour


def test_used_minutes_per_department_and_year():
    used = UsedMinutes()
    days = np.array([day_number(date(2025, 12, 31)), day_number(date(2026, 1, 1)),
                     day_number(date(2026, 6, 1))])
    used.add(["Anwendungstechnik", "Innendienst"], np.array([0, 0, 1]), days,
             np.array([30, 45, 20]))
    assert dict(used.minutes) == {("Anwendungstechnik", 2025): 30,
                                  ("Anwendungstechnik", 2026): 45, ("Innendienst", 2026): 20}


def test_the_sample_writes_capacity_for_its_departments(tmp_path):
    out = tmp_path / "capacity_inputs.csv"
    generate_sample(tmp_path / "landing", customers=5, years=2, deltas=0, capacity_out=out)
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["department"], r["valid_from"]) for r in rows} == {
        (department, f"{year}-01-01")
        for department in ("Anwendungstechnik", "Innendienst") for year in (2025, 2026)}
    assert all(float(r["people"]) >= 0.01 for r in rows)
    # what `make demo` puts in the landing root's reference/ folder passes its checks
    assert len(reference_inputs.read("capacity_inputs", out)) == len(rows) == 4
    # the seed's own columns, so that the file can stand in for the seed
    assert write_capacity(tmp_path / "empty.csv", []).read_text(encoding="utf-8") == (
        SEEDS_DIR / "capacity_inputs.csv").read_text(encoding="utf-8")


def test_the_cockpit_names_a_derived_rate_as_such():
    from orchestration.cockpit.customer import rate_label

    assert rate_label("HOTLINE-2026@SVC-2026H1", "derived", "de") == (
        "HOTLINE-2026@SVC-2026H1 (aus Kapazität)")
    assert rate_label("HOTLINE-2026", "typed", "en") == "HOTLINE-2026"
    assert rate_label(None, None, "de") == ""
