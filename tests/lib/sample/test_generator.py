"""The sample extract generator, checked by reading the CSVs it writes with plain rules: the
formats and reason codes of docs/reference.md, the columns and bounds of the extracts' spec."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestration.lib.ingest.spec import ENTITIES, MAX_RECORD_BYTES, SPECS
from orchestration.lib.sample.generator import generate_sample

SEEDS = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds"
END = date(2026, 11, 20)
SMALL = {"customers": 60, "years": 2, "deltas": 3, "end_date": END}


# ---- reading the files the way a user would --------------------------------------------

def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows as a user reads them by docs/reference.md: UTF-8 with a byte-order mark or
    when its stray bytes are no more than its non-ASCII characters (a stray byte read as
    U+FFFD), else cp1252."""
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    stray = text.count("\ufffd")
    characters = sum(1 for char in text if ord(char) > 127) - stray
    if not (raw.startswith(b"\xef\xbb\xbf") or stray <= characters):
        text = raw.decode("cp1252")
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    # the faults hold a field over the loader's limit, which importing the loader sets
    limit = csv.field_size_limit(2 * MAX_RECORD_BYTES)
    try:
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    finally:
        csv.field_size_limit(limit)


def folders(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


@functools.cache
def catalogue_codes() -> frozenset[str]:
    with open(SEEDS / "service_catalogue.csv", encoding="utf-8") as handle:
        return frozenset(row["service_type_code"] for row in csv.DictReader(handle))


def catalogue_categories() -> dict[str, str]:
    with open(SEEDS / "service_catalogue.csv", encoding="utf-8") as handle:
        return {row["service_type_code"]: row["category"] for row in csv.DictReader(handle)}


def rates() -> list[dict[str, str]]:
    with open(SEEDS / "standard_cost_rates.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def standard_cost(row: dict[str, str], rate_rows: list[dict[str, str]]) -> Decimal | None:
    """The standard cost (docs/reference.md, section 3), to judge the sample's billing:
    minutes/60*hourly + per event + participants*per participant."""
    day = row["activity_date"]
    for rate in rate_rows:
        if (rate["service_type_code"] == row["service_type_code"] and rate["valid_from"] <= day
                and (not rate["valid_to"] or day < rate["valid_to"])):
            participants = int(row["participants"] or 1)
            cost = (Decimal(row["duration_minutes"]) / 60 * Decimal(rate["hourly_rate_eur"])
                    + Decimal(rate["cost_per_event_eur"])
                    + participants * Decimal(rate["cost_per_participant_eur"]))
            return cost.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    return None


def latest(out: Path, entity: str, key: tuple[str, ...]) -> dict[tuple, dict[str, str]]:
    """Re-delivery: the latest updated_at wins; on a tie the later folder wins."""
    current: dict[tuple, tuple[str, dict[str, str]]] = {}
    for folder in folders(out):
        for row in read_rows(folder / f"{entity}.csv"):
            k = tuple(row[c] for c in key)
            if k not in current or row["updated_at"] >= current[k][0]:
                current[k] = (row["updated_at"], row)
    return {k: row for k, (_, row) in current.items()}


def sha256_tree(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate_sample(out, seed=7, **SMALL)
    return out


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faulty")
    generate_sample(out, seed=11, with_errors=True, **SMALL)
    return out


@pytest.fixture(scope="module")
def german(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("german")
    generate_sample(out, seed=5, dialect="german", **SMALL)
    return out


# ---- layout ------------------------------------------------------------------------------

def test_folders_are_the_initial_delivery_and_nightly_deltas(clean):
    names = [p.name for p in folders(clean)]
    assert names == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    for folder in folders(clean):
        assert sorted(p.name for p in folder.iterdir()) == [
            "customers.csv", "orders.csv", "service_activities.csv"]


def test_history_covers_the_calendar_years_up_to_the_day_before(clean):
    dates = [row["order_date"] for row in read_rows(clean / "2026-11-20" / "orders.csv")]
    assert min(dates) >= "2025-01-01" and max(dates) <= "2026-11-19"
    assert min(dates) < "2025-01-15" and max(dates) >= "2026-11-01"


def test_columns_are_the_spec_s_and_only_the_initial_customers_file_has_a_bom(clean):
    initial = (clean / "2026-11-20" / "customers.csv").read_bytes()
    assert initial.startswith(b"\xef\xbb\xbfcustomer_id,customer_name,industry,region,")
    assert not (clean / "2026-11-21" / "customers.csv").read_bytes().startswith(b"\xef")
    for entity in ENTITIES:
        header = (clean / "2026-11-21" / f"{entity}.csv").read_text(encoding="utf-8")
        assert header.split("\n")[0] == ",".join(SPECS[entity].column_names)
    rows = read_rows(clean / "2026-11-21" / "service_activities.csv")
    assert rows and all(row["activity_id"] and row["duration_minutes"] for row in rows)


def test_summary_counts_rows_per_file(tmp_path):
    summary = generate_sample(tmp_path, customers=8, years=1, deltas=1, seed=3)
    assert summary["folders"] == ["2026-11-20", "2026-11-21"]
    for name, rows in summary["files"].items():
        lines = (tmp_path / name).read_text(encoding="utf-8-sig").count("\n")
        assert rows == lines - 1  # header; no field spans lines in the sample


# ---- determinism -------------------------------------------------------------------------

def test_same_seed_gives_identical_bytes_and_another_seed_differs(clean, tmp_path):
    again = tmp_path / "again"
    generate_sample(again, seed=7, **SMALL)
    assert sha256_tree(again) == sha256_tree(clean)
    other = tmp_path / "other"
    generate_sample(other, seed=8, **SMALL)
    first, second = sha256_tree(clean), sha256_tree(other)
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


# ---- realism ------------------------------------------------------------------------------

def test_top_fifth_of_customers_hold_70_to_90_percent_of_revenue(clean):
    customers = {row["customer_id"] for folder in folders(clean)
                 for row in read_rows(folder / "customers.csv")}
    revenue = dict.fromkeys(customers, Decimal(0))
    for row in latest(clean, "orders", ("order_id", "line_no")).values():
        revenue[row["customer_id"]] += Decimal(row["net_revenue_eur"])
    ranked = sorted(revenue.values(), reverse=True)
    top = ranked[: math.ceil(0.2 * len(ranked))]
    assert Decimal("0.70") <= sum(top) / sum(ranked) <= Decimal("0.90")


def test_every_catalogue_service_type_occurs(clean):
    codes = {row["service_type_code"] for folder in folders(clean)
             for row in read_rows(folder / "service_activities.csv")}
    assert codes == catalogue_codes()


def test_durations_are_typical_of_each_service_type(clean):
    rows = read_rows(clean / "2026-11-20" / "service_activities.csv")
    by_type: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_type.setdefault(row["service_type_code"], []).append(row)
    assert {int(r["duration_minutes"]) for r in by_type["TRAINING"]} <= {240, 480}
    assert all(2 <= int(r["participants"]) <= 15 for r in by_type["TRAINING"])
    assert all(5 <= int(r["duration_minutes"]) <= 30 for r in by_type["HOTLINE"])
    assert all(60 <= int(r["duration_minutes"]) <= 480 for r in by_type["COMMISSIONING"])
    assert {r["channel"] for r in by_type["OPTIMISATION"]} == {"on_site", "remote"}
    assert all(480 <= int(r["duration_minutes"]) <= 2400 for r in by_type["JOINT_DEVELOPMENT"])
    assert all(int(r["duration_minutes"]) <= 20 for r in by_type["ORDER_CHANGE"])
    for row in rows:
        assert row["employee_id"] and row["department"] and row["channel"]
        assert row["description"]


def test_billing_free_discounted_and_billed_against_standard_cost(clean):
    rate_rows = rates()
    category = catalogue_categories()
    kinds: dict[str, dict[str, int]] = {"value_added": {}, "billed_service": {}}
    for row in read_rows(clean / "2026-11-20" / "service_activities.csv"):
        cost = standard_cost(row, rate_rows)
        if cost is None:
            # only a type without a valid rate on the day: FIELD_SERVICE before its first rate
            assert row["service_type_code"] == "FIELD_SERVICE"
            first_rate = min(r["valid_from"] for r in rate_rows
                             if r["service_type_code"] == "FIELD_SERVICE")
            assert row["activity_date"] < str(first_rate)
            continue
        billed = Decimal(row["billed_amount_eur"])
        kind = "free" if billed == 0 else "discounted" if billed < cost else "billed"
        group = "billed_service" if category[row["service_type_code"]] == "billed_service" \
            else "value_added"
        kinds[group][kind] = kinds[group].get(kind, 0) + 1
    value_added, billed_service = kinds["value_added"], kinds["billed_service"]
    assert value_added["free"] > 0.75 * sum(value_added.values())
    assert value_added["discounted"] > 0
    assert billed_service["billed"] > 0.7 * sum(billed_service.values())
    assert billed_service["free"] > 0  # a repair given away is a value transfer


def test_problem_group_is_heavily_served_with_little_revenue(clean):
    revenue: dict[str, Decimal] = {}
    for row in read_rows(clean / "2026-11-20" / "orders.csv"):
        revenue[row["customer_id"]] = revenue.get(row["customer_id"], 0) + Decimal(
            row["net_revenue_eur"])
    minutes: dict[str, Decimal] = {}
    for row in read_rows(clean / "2026-11-20" / "service_activities.csv"):
        minutes[row["customer_id"]] = minutes.get(row["customer_id"], 0) + Decimal(
            row["duration_minutes"])
    median_revenue = sorted(revenue.values())[len(revenue) // 2]
    median_minutes = sorted(minutes.values())[len(minutes) // 2]
    problem = [c for c in minutes
               if minutes[c] > 2 * median_minutes and revenue.get(c, 0) < median_revenue]
    assert len(problem) >= 3  # about a tenth of 60


def test_new_customers_and_statuses(clean):
    rows = read_rows(clean / "2026-11-23" / "customers.csv")
    statuses = {row["status"] for row in rows}
    assert {"active", "inactive", "prospect"} <= statuses
    recent = [r for r in rows if r["customer_since"] >= "2025-11-20"]
    assert recent
    countries = [row["country_code"] for row in rows]
    assert countries.count("DE") > len(rows) / 2 and len(set(countries)) > 1


def test_deltas_carry_corrections_cancellations_and_a_credit_note(clean):
    initial = {r["activity_id"]: r for r in read_rows(clean / "2026-11-20" /
                                                       "service_activities.csv")}
    redelivered, cancelled = 0, 0
    for folder in folders(clean)[1:]:
        for row in read_rows(folder / "service_activities.csv"):
            if row["activity_id"] in initial:
                before = initial[row["activity_id"]]
                assert row["updated_at"] > before["updated_at"]
                assert row != before
                redelivered += 1
                cancelled += row["status"] == "cancelled"
    assert redelivered > cancelled > 0
    initial_orders = {(r["order_id"], r["line_no"]): r
                      for r in read_rows(clean / "2026-11-20" / "orders.csv")}
    corrected = [r for f in folders(clean)[1:] for r in read_rows(f / "orders.csv")
                 if (r["order_id"], r["line_no"]) in initial_orders]
    assert corrected
    assert all(r["net_revenue_eur"] != initial_orders[(r["order_id"], r["line_no"])][
        "net_revenue_eur"] for r in corrected)
    credit = [r for f in folders(clean)[1:] for r in read_rows(f / "orders.csv")
              if Decimal(r["net_revenue_eur"]) < 0]
    assert credit


# ---- faults, detected with plain Python rules over the spec's columns ---------------------

def _columns(entity: str, keep) -> list[str]:
    return [c.name for c in SPECS[entity].columns if keep(c)]


REQUIRED = {e: _columns(e, lambda c: c.required) for e in ENTITIES}
NUMBERS = {e: _columns(e, lambda c: c.kind in ("int", "decimal")) for e in ENTITIES}
DATES = {e: _columns(e, lambda c: c.kind == "date") for e in ENTITIES}
EVENT_DATES = {e: _columns(e, lambda c: c.event_date) for e in ENTITIES}
NON_NEGATIVE = {e: _columns(e, lambda c: c.min_value == 0) for e in ENTITIES}
STATUSES = {e: ({"", *SPECS[e].column("status").allowed} if "status" in SPECS[e].column_names
                else None) for e in ENTITIES}
KEYS = {e: SPECS[e].key for e in ENTITIES}


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


BERLIN = ZoneInfo("Europe/Berlin")


def _not_one_instant(text: str) -> bool:
    """A naive updated_at that Berlin's clocks skip or repeat: its two readings (before and
    after the change) give different offsets."""
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return (moment.replace(tzinfo=BERLIN, fold=0).utcoffset()
            != moment.replace(tzinfo=BERLIN, fold=1).utcoffset())


def reason(entity: str, row: dict[str, str], duplicates: set, known: set[str],
           extract_date: str) -> str | None:
    """The first reason, in the order of docs/reference.md, that applies to the row."""
    if sum(len(value.encode()) + 1 for value in row.values()) > MAX_RECORD_BYTES:
        return "record_too_long"
    if any("\ufffd" in value for value in row.values()):
        return "invalid_encoding"
    if any(not row[c].strip() for c in REQUIRED[entity]):
        return "missing_required_field"
    if any(row[c] and _number(row[c]) is None for c in NUMBERS[entity]):
        return "invalid_number"
    if any(row[c] and not _is_date(row[c]) for c in DATES[entity]):
        return "invalid_date"
    if any(row[c] and not "1900-01-01" <= row[c] <= extract_date for c in EVENT_DATES[entity]):
        return "invalid_date"
    if row["updated_at"] and _not_one_instant(row["updated_at"]):
        return "invalid_date"
    allowed = STATUSES[entity]
    if allowed is not None and row["status"] not in allowed:
        return "invalid_value"
    if entity == "customers" and row["country_code"] and not re.fullmatch(
            "[A-Z]{2}", row["country_code"]):
        return "invalid_value"
    if any(row[c] and _number(row[c]) < 0 for c in NON_NEGATIVE[entity]):
        return "negative_value"
    if entity == "service_activities" and row["service_type_code"] not in catalogue_codes():
        return "unknown_service_type"
    if tuple(row[c] for c in KEYS[entity]) in duplicates:
        return "duplicate_key"
    if entity != "customers" and row["customer_id"] not in known:
        return "unknown_customer"
    return None


def _duplicates(rows: list[dict[str, str]], key: tuple[str, ...]) -> set:
    seen: dict[tuple, list[dict[str, str]]] = {}
    for row in rows:
        seen.setdefault(tuple(row[c] for c in key), []).append(row)
    return {k for k, copies in seen.items() if len(copies) > 1
            and len({c["updated_at"] for c in copies}) == 1
            and len({tuple(c.items()) for c in copies}) > 1}


def faults_by_folder(out: Path) -> dict[str, dict[str, list[str]]]:
    """folder -> reason -> the rows' keys; customers known up to that folder count."""
    known: set[str] = set()
    found: dict[str, dict[str, list[str]]] = {}
    for folder in folders(out):
        found[folder.name] = {}
        for entity in ENTITIES:
            rows = read_rows(folder / f"{entity}.csv")
            duplicates = _duplicates(rows, KEYS[entity])
            for row in rows:
                why = reason(entity, row, duplicates, known, folder.name)
                if why:
                    found[folder.name].setdefault(why, []).append(row["customer_id"])
                elif entity == "customers":
                    known.add(row["customer_id"])
    return found


def test_clean_sample_has_no_faults(clean):
    assert all(not reasons for reasons in faults_by_folder(clean).values())


def test_with_errors_produces_every_reason_code(faulty):
    found = faults_by_folder(faulty)
    every = {"record_too_long", "invalid_encoding", "missing_required_field", "invalid_number",
             "invalid_date", "invalid_value", "negative_value", "unknown_service_type",
             "duplicate_key", "unknown_customer"}
    for folder in ("2026-11-21", "2026-11-22", "2026-11-23"):
        assert set(found[folder]) == every
    assert found["2026-11-20"]  # a few in the initial delivery too
    assert set(found["2026-11-20"]) < every


def test_an_unknown_customer_is_brought_by_a_later_snapshot(faulty):
    found = faults_by_folder(faulty)
    snapshots = {f.name: {r["customer_id"] for r in read_rows(f / "customers.csv")}
                 for f in folders(faulty)}
    names = sorted(snapshots)
    resolved = [
        (name, customer) for name in names for customer in found[name].get("unknown_customer", [])
        if any(customer in snapshots[later] for later in names if later > name)
    ]
    never = [
        customer for name in names for customer in found[name].get("unknown_customer", [])
        if not any(customer in snapshot for snapshot in snapshots.values())
    ]
    assert resolved and never


# ---- german dialect ----------------------------------------------------------------------

def test_german_dialect_is_cp1252_with_semicolons_and_german_numbers(german):
    raw = (german / "2026-11-20" / "service_activities.csv").read_bytes()
    assert b"\x80" in raw  # the euro sign in cp1252
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "Angebot über 1.200 €" in text
    assert text.startswith("activity_id;customer_id;service_type_code;activity_date;")
    first = next(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", first["activity_date"])
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", first["updated_at"])
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d\d", first["billed_amount_eur"])
    amounts = [row["net_revenue_eur"] for row in read_rows(german / "2026-11-20" / "orders.csv")]
    assert all(re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d\d", a) for a in amounts)
    assert any("." in a for a in amounts)  # thousands separator in use


def test_german_and_utf8_hold_the_same_values(german, tmp_path):
    generate_sample(tmp_path, seed=5, **SMALL)
    utf8 = read_rows(tmp_path / "2026-11-21" / "orders.csv")
    de = read_rows(german / "2026-11-21" / "orders.csv")
    assert len(utf8) == len(de)
    for a, b in zip(utf8, de, strict=True):
        assert a["order_id"] == b["order_id"]
        assert Decimal(a["net_revenue_eur"]) == Decimal(
            b["net_revenue_eur"].replace(".", "").replace(",", "."))
        assert datetime.strptime(a["order_date"], "%Y-%m-%d") == datetime.strptime(
            b["order_date"], "%d.%m.%Y")


def test_list_prices_come_from_the_latest_rate_and_start_with_the_first():
    """Seed rates: HOTLINE-2026 85.97/h (the latest); TRAINING-2026 113.43/h + 179.11 per
    event + 53.73 per participant; FIELD_SERVICE's first rate starts on 2025-01-01.
    HOTLINE, 30 min: 30/60 * 8597 = 4298.5 cents. TRAINING, 240 min, 3 participants:
    4 * 11343 + 17911 + 3 * 5373 = 45372 + 17911 + 16119 = 79402 cents."""
    import numpy as np

    from orchestration.lib.sample.reference import day_number, load_catalogue, load_prices

    codes = load_catalogue().codes
    prices = load_prices(codes)
    hotline, training, field = (codes.index(c) for c in ("HOTLINE", "TRAINING", "FIELD_SERVICE"))
    assert prices.list_price_cents(np.array([hotline, training]), np.array([30, 240]),
                                   np.array([1, 3])).tolist() == [4298.5, 79402.0]
    first = day_number(date(2025, 1, 1))
    assert prices.priced(np.array([field, field]), np.array([first - 1, first])).tolist() == [
        False, True]
