"""A plain pandas computation of `marts.customer_value` from the landing files.

    .venv/bin/python bench/pandas_peer.py --landing DIR [--out FILE.csv] [--check WAREHOUSE]
                                             [--forecast WAREHOUSE]

Two uses: the benchmark times it as the peer of `cvm load`, and it is an oracle for the dbt
models. It shares no code with the warehouse (an oracle that reused the loader or the SQL
would check nothing): it reads the CSV files itself and applies the rules of
docs/reference.md its own way.

- Every delivery folder `<landing>/<YYYY-MM-DD>/` in date order; each file in either dialect
  (UTF-8 with ',' and '.', or the German export with ';', '1.234,56', '31.03.2025', cp1252),
  read in chunks of CHUNK_ROWS records, all values as text.
- Encoding: UTF-8 when the file starts with a byte-order mark or its bytes that do not decode
  as UTF-8 are no more than its non-ASCII characters that do, else cp1252; in a UTF-8 file a
  row holding such a byte is dropped.
- Row rules: a row is dropped when its record is longer than 1 MiB (counted from its values,
  delimiters and line break: the sample quotes no long field), a required value is empty, a
  number, date or timestamp does not parse, an order or activity date lies after its
  delivery's date or before 1900-01-01, a status or country code is outside its set, a value
  is below its minimum or the service type is not in the catalogue. A timestamp is local time
  in $CVM_SOURCE_TIMEZONE (Europe/Berlin), compared as UTC; one the clocks skip or repeat is
  dropped. All copies of a key delivered twice in one file with the same `updated_at` and
  different content are dropped. Orders and activities of a customer in no accepted
  customers row of any delivery are dropped.
- Latest version per key: when every version has `updated_at`, the latest wins, then the
  later delivery; otherwise the later delivery wins, then the later `updated_at`. The
  latest customers row gives the attributes. Cancelled activities leave.
- Money is exact: integers of 1/10,000 EUR (the raw tables' DECIMAL(18, 4)). Standard cost
  at the rate valid on the activity date, rounded to the cent half away from zero; the
  value transfer by the billed amount; the period aggregates, ABC classes with exact
  cut-offs, the new-customer potential, continuous medians as exact fractions, segments.
- The rules' parameters are the dbt vars in dbt_project/dbt_project.yml; the catalogue, the
  rates and the segment names are the dbt seeds.

Outside its scope (the sample never holds them): records with more or fewer fields than the
header (pandas refuses or pads them), quoted line breaks, timestamps with an offset. It fits no
purchase model (the fit has its own tests): where sales gave no potential (none or 0), the
potential is the fit's forecast of the customer's year, read from a published warehouse's
`marts.customer_lifetime_value` (`expected_revenue_eur`, or `expected_margin_eur` when the
classic value's basis is the margin, at a horizon of 12 months), times months / 12, rounded to
4 decimals half away from zero; it lifts a newcomer's classic value and so moves the period's
median. `--forecast WAREHOUSE` names that warehouse (`--check` implies its own); without one,
such a customer has no potential.

`--check` compares the result with `marts.customer_value` of a published warehouse, row by
row on every column in COMPARED, prints the number of rows compared and each difference, and
exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import codecs
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

CHUNK_ROWS = 500_000
MAX_RECORD_BYTES = 1 << 20
EARLIEST_EVENT_DATE = pd.Timestamp("1900-01-01")
UNDECODED = "[\udc80-\udcff]"  # a byte that did not decode, as Python escapes it
UNIT = 10_000  # money and minutes are integers of 1/10,000
MAX_WHOLE_DIGITS = 14  # DECIMAL(18, 4)
INT32 = 2**31 - 1

# column -> (kind, required, rule); rule: ("min", n) | ("in", values) | ("re", pattern)
EXTRACTS: dict[str, dict] = {
    "customers": {
        "key": ["customer_id"],
        "columns": {
            "customer_id": ("text", True, None),
            "customer_name": ("text", True, None),
            "industry": ("text", False, None),
            "region": ("text", False, None),
            "account_manager": ("text", False, None),
            "country_code": ("upper", False, ("re", r"[A-Za-z]{2}")),
            "customer_since": ("date", True, None),
            "annual_potential_eur": ("decimal", False, ("min", 0)),
            "status": ("lower", False, ("in", {"active", "inactive", "prospect"})),
            "updated_at": ("timestamp", False, None),
        },
    },
    "orders": {
        "key": ["order_id", "line_no"],
        "columns": {
            "order_id": ("text", True, None),
            "line_no": ("int", True, None),
            "customer_id": ("text", True, None),
            "order_date": ("date", True, ("event", None)),
            "product_group": ("text", False, None),
            "net_revenue_eur": ("decimal", True, None),
            "cost_of_goods_eur": ("decimal", False, None),
            "updated_at": ("timestamp", False, None),
        },
    },
    "service_activities": {
        "key": ["activity_id"],
        "columns": {
            "activity_id": ("text", True, None),
            "customer_id": ("text", True, None),
            "service_type_code": ("text", True, ("catalogue", None)),
            "activity_date": ("date", True, ("event", None)),
            "duration_minutes": ("decimal", True, ("min", 0)),
            "participants": ("int", False, ("min", 1)),
            "employee_id": ("text", False, None),
            "department": ("text", False, None),
            "channel": ("text", False, None),
            "billed_amount_eur": ("decimal", False, ("min", 0)),
            "description": ("text", False, None),
            "status": ("lower", False, ("in", {"done", "cancelled"})),
            "updated_at": ("timestamp", False, None),
        },
    },
}
# what the computation needs of each extract; the other columns only count for duplicates
KEPT = {
    "customers": ["customer_id", "customer_since", "annual_potential_eur", "updated_at"],
    "orders": ["order_id", "line_no", "customer_id", "order_date", "net_revenue_eur",
               "cost_of_goods_eur", "updated_at"],
    "service_activities": ["activity_id", "customer_id", "service_type_code", "activity_date",
                           "duration_minutes", "participants", "billed_amount_eur", "status",
                           "updated_at"],
}

# the columns of marts.customer_value the check compares
COMPARED = (
    "period_end", "revenue_eur", "contribution_margin_eur", "value_transfer_eur",
    "service_minutes", "service_activities", "abc_class", "is_new_customer",
    "potential_value_eur", "classic_value_eur", "classic_threshold",
    "value_transfer_threshold", "segment",
)


# ---- settings: dbt vars and seeds -----------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """The rules' parameters (dbt vars) and reference data (dbt seeds)."""

    period_months: int  # 12 (year) or 3 (quarter)
    abc_a_cutoff: Fraction
    abc_b_cutoff: Fraction
    new_customer_months: int
    target_share_of_wallet: Fraction
    classic_value_basis: str  # revenue | contribution_margin
    classic_value_threshold: Fraction | None
    value_transfer_threshold: Fraction | None
    catalogue: frozenset[str]
    rates: pd.DataFrame
    segments: dict[tuple[str, str], str]  # (classic level, value transfer level) -> segment


def _fraction(value) -> Fraction | None:
    return None if value is None else Fraction(Decimal(str(value)))


def load_rules(dbt_project_dir: Path = DBT_PROJECT_DIR) -> Rules:
    import yaml

    project = yaml.safe_load((dbt_project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    v = project["vars"]
    grain = str(v["period_grain"]).lower()
    if grain not in ("year", "quarter"):
        raise ValueError(f"period_grain must be year or quarter, got {grain!r}")
    seeds = dbt_project_dir / "seeds"
    catalogue = pd.read_csv(seeds / "service_catalogue.csv", dtype=str, keep_default_na=False)
    rates = pd.read_csv(seeds / "standard_cost_rates.csv", dtype=str, keep_default_na=False)
    rates = pd.DataFrame({
        "rate_id": rates["rate_id"],
        "service_type_code": rates["service_type_code"],
        "valid_from": pd.to_datetime(rates["valid_from"], format="%Y-%m-%d"),
        "valid_to": pd.to_datetime(rates["valid_to"].replace("", None), format="%Y-%m-%d"),
        **{name: to_units(rates[name], decimal_comma=False)
           for name in ("hourly_rate_eur", "cost_per_event_eur", "cost_per_participant_eur")},
    })
    segments = pd.read_csv(seeds / "segments.csv", dtype=str, keep_default_na=False)
    return Rules(
        period_months=12 if grain == "year" else 3,
        abc_a_cutoff=_fraction(v["abc_a_cutoff"]),
        abc_b_cutoff=_fraction(v["abc_b_cutoff"]),
        new_customer_months=int(v["new_customer_months"]),
        target_share_of_wallet=_fraction(v["target_share_of_wallet"]),
        classic_value_basis=str(v["classic_value_basis"]),
        classic_value_threshold=_fraction(v["classic_value_threshold_eur"]),
        value_transfer_threshold=_fraction(v["value_transfer_threshold_eur"]),
        catalogue=frozenset(catalogue["service_type_code"]),
        rates=rates,
        segments={(r.classic_value_level, r.value_transfer_level): r.segment
                  for r in segments.itertuples()},
    )


# ---- parsing text into typed values ---------------------------------------------------------

STANDARD_NUMBER = r"^([+-]?)(\d+)(?:\.(\d+))?$"
GERMAN_NUMBER = r"^([+-]?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$"


def to_units(text: pd.Series, decimal_comma: bool) -> pd.Series:
    """Decimal text -> Int64 in 1/10,000, rounded half away from zero at the fifth decimal;
    <NA> when the text is no number of the dialect or has more than 14 whole digits.

    Fast path: a float parse, exact after rounding to whole units wherever the value is below
    10^10 and the float sits within 10^-6 units of a whole unit (float64 errors there are below
    0.03 units). The other numbers (a fifth decimal, very large values) take the exact path."""
    valid = text.str.fullmatch(GERMAN_NUMBER if decimal_comma else STANDARD_NUMBER)
    valid = valid.fillna(False).astype(bool)
    plain = text.where(valid)
    if decimal_comma:
        plain = plain.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    scaled = pd.to_numeric(plain).to_numpy("float64") * UNIT
    whole_units = np.rint(scaled)
    fast = valid.to_numpy() & (np.abs(scaled) < 1e14) & (np.abs(scaled - whole_units) < 1e-6)
    units = pd.Series(np.where(fast, whole_units, 0).astype("int64"), index=text.index,
                      dtype="Int64").where(fast)
    exact = valid & ~fast
    if exact.any():
        units[exact] = _exact_units(text[exact], decimal_comma)
    return units


def _exact_units(text: pd.Series, decimal_comma: bool) -> pd.Series:
    """to_units from the digits themselves: whole part, the first four decimals, and the fifth
    decimal for the rounding."""
    parts = text.str.extract(GERMAN_NUMBER if decimal_comma else STANDARD_NUMBER)
    sign, whole, fraction = parts[0], parts[1], parts[2].fillna("")
    if decimal_comma:
        whole = whole.str.replace(".", "", regex=False)
    ok = whole.notna() & (whole.str.lstrip("0").str.len() <= MAX_WHOLE_DIGITS)
    whole_units = whole.where(ok, "0").astype("int64") * UNIT
    first_four = fraction.str.slice(0, 4).str.ljust(4, "0").astype("int64")
    round_up = (fraction.str.slice(4, 5) >= "5").astype("int64")
    magnitude = whole_units + first_four + round_up
    units = np.where(sign == "-", -magnitude, magnitude)
    return pd.Series(units, index=text.index, dtype="Int64").where(ok)


def to_int(text: pd.Series) -> pd.Series:
    """Integer text (sign and digits, 32 bits) -> Int64, else <NA>."""
    digits = text.where(text.str.fullmatch(r"[+-]?\d+").fillna(False))
    values = pd.to_numeric(digits, errors="coerce")
    return values.where(values.abs() <= INT32).astype("Int64")


def to_date(text: pd.Series) -> pd.Series:
    """'2025-03-31' or '31.03.2025' -> datetime64, else NaT."""
    iso = pd.to_datetime(text.where(text.str.contains("-", regex=False).fillna(False)),
                         format="%Y-%m-%d", errors="coerce")
    german = pd.to_datetime(text.where(text.str.contains(".", regex=False).fillna(False)),
                            format="%d.%m.%Y", errors="coerce")
    return iso.fillna(german)


def to_timestamp(text: pd.Series, zone: str) -> pd.Series:
    """ISO ('2025-03-31 14:05:00', 'T' form, date only) or German ('31.03.2025 14:05[:00]',
    '31.03.2025'), local time in `zone` -> its UTC datetime64, else NaT (also for a local
    time the clocks skip or repeat)."""
    iso_like = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}([ T][\d:.]*)?").fillna(False)
    result = pd.to_datetime(text.where(iso_like), format="ISO8601", errors="coerce")
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        result = result.fillna(pd.to_datetime(text.where(~iso_like), format=fmt,
                                               errors="coerce"))
    local = result.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert("UTC").dt.tz_localize(None)


def source_zone() -> str:
    return os.environ.get("CVM_SOURCE_TIMEZONE", "").strip() or "Europe/Berlin"


def detect(path: Path) -> tuple[str, str]:
    """(encoding for pandas, delimiter) of a landing file: UTF-8 with a byte-order mark or
    when the bytes that do not decode as UTF-8 are no more than the non-ASCII characters that
    do, else cp1252; ';' when the header holds more ';' than ','."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    stray = characters = 0
    with open(path, "rb") as handle:
        header = handle.readline()
        handle.seek(0)
        while block := handle.read(1 << 24):
            text = decoder.decode(block)
            undecoded = len(re.findall(UNDECODED, text))
            stray += undecoded
            characters += len(text) - len(text.encode("ascii", "ignore")) - undecoded
    utf8 = header.startswith(codecs.BOM_UTF8) or stray <= characters
    encoding = "utf-8-sig" if utf8 else "cp1252"
    header_text = header.decode(encoding, errors="replace")
    return encoding, ";" if header_text.count(";") > header_text.count(",") else ","


def typed_chunk(raw: pd.DataFrame, entity: str, decimal_comma: bool,
                catalogue: frozenset[str], extract_date: pd.Timestamp | None = None,
                encoding: str = "utf-8") -> pd.DataFrame:
    """One chunk of text records -> the kept columns typed, `_ok` (every row rule holds) and
    `_content` (a hash of all typed values, for the duplicate-key rule)."""
    typed, ok = {}, pd.Series(True, index=raw.index)
    values = [raw[name] for name in raw.columns]
    if values:
        undecoded = pd.concat([v.str.contains(UNDECODED) for v in values], axis=1).any(axis=1)
        ok &= ~undecoded
        chars = sum(v.str.len() for v in values) + len(values)  # + delimiters, line break
        long = chars * 4 > MAX_RECORD_BYTES  # a UTF-8 character has at most 4 bytes
        if long.any():
            size = sum(v[long].str.encode(encoding, "surrogateescape").str.len()
                       for v in values) + len(values)
            ok &= ~(size > MAX_RECORD_BYTES).reindex(raw.index, fill_value=False)
        if undecoded.any():  # dropped; U+FFFD keeps the content hash computable
            raw = raw.apply(lambda v: v.str.replace(UNDECODED, "\ufffd", regex=True))
    for name, (kind, required, rule) in EXTRACTS[entity]["columns"].items():
        if name in raw:
            text = raw[name].str.strip()
            text = text.where(text != "")
        else:
            text = pd.Series(None, index=raw.index, dtype="str")
        if required:
            ok &= text.notna()
        if kind == "text":
            value = text
        elif kind in ("lower", "upper"):
            value = text.str.lower() if kind == "lower" else text.str.upper()
        else:
            parse = {"decimal": lambda t: to_units(t, decimal_comma), "int": to_int,
                     "date": to_date,
                     "timestamp": lambda t: to_timestamp(t, source_zone())}[kind]
            value = parse(text)
            ok &= text.isna() | value.notna()
        if rule:
            check, argument = rule
            present = value.notna()
            if check == "min":
                ok &= ~present | (value >= argument * (UNIT if kind == "decimal" else 1))
            elif check == "in":
                ok &= ~present | value.isin(list(argument))
            elif check == "re":
                ok &= ~present | text.str.fullmatch(argument).fillna(False)
            elif check == "catalogue":
                ok &= ~present | text.isin(catalogue)
            elif check == "event":
                ok &= ~present | ((value >= EARLIEST_EVENT_DATE) & (
                    extract_date is None or value <= extract_date))
        typed[name] = value
    frame = pd.DataFrame(typed)
    content = pd.util.hash_pandas_object(frame, index=False)
    kept = frame[KEPT[entity]].copy()
    kept["_ok"] = ok.fillna(False).astype(bool)
    kept["_content"] = content
    return kept


def read_extract(path: Path, entity: str, catalogue: frozenset[str],
                 extract_date: pd.Timestamp | None = None) -> pd.DataFrame:
    """Every record of one landing file, typed, with `_ok`, `_content` and `_line`."""
    encoding, delimiter = detect(path)
    columns = EXTRACTS[entity]["columns"]
    chunks, seen = [], 0
    reader = pd.read_csv(path, sep=delimiter, encoding=encoding, dtype=str,
                         encoding_errors="surrogateescape", keep_default_na=False,
                         na_filter=False, chunksize=CHUNK_ROWS)
    with reader:
        for raw in reader:
            raw.columns = [str(c).strip().lower() for c in raw.columns]
            missing = [n for n, (_, required, _) in columns.items()
                       if required and n not in raw.columns]
            if missing:
                raise ValueError(f"{path}: required column {', '.join(missing)} is missing")
            chunk = typed_chunk(raw, entity, delimiter == ";", catalogue, extract_date,
                                encoding.removesuffix("-sig"))
            chunk["_line"] = np.arange(seen, seen + len(chunk)) + 2  # the header is line 1
            seen += len(chunk)
            chunks.append(chunk)
    if not chunks:  # a header-only file
        return pd.DataFrame(columns=[*KEPT[entity], "_ok", "_content", "_line"])
    return pd.concat(chunks, ignore_index=True)


def accepted_rows(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The rows of one file that pass the row rules and the duplicate-key rule."""
    frame = frame[frame["_ok"]]
    same = key + ["updated_at"]
    candidates = frame[frame.duplicated(same, keep=False)]
    if len(candidates):
        contents = candidates.groupby(same, dropna=False)["_content"].transform("nunique")
        frame = frame.drop(candidates.index[contents > 1])
    return frame


def read_landing(landing: Path, rules: Rules) -> dict[str, pd.DataFrame]:
    """The accepted rows of every delivery, per extract, with `extract_date`."""
    folders = []
    for child in sorted(landing.iterdir()):
        try:
            if child.is_dir() and date.fromisoformat(child.name).isoformat() == child.name:
                folders.append(child)
        except ValueError:
            continue
    extracts: dict[str, list[pd.DataFrame]] = {entity: [] for entity in EXTRACTS}
    for folder in folders:
        for entity, spec in EXTRACTS.items():
            path = folder / f"{entity}.csv"
            if path.is_file():
                rows = accepted_rows(read_extract(path, entity, rules.catalogue,
                                                  pd.Timestamp(folder.name)), spec["key"])
                rows["extract_date"] = pd.Timestamp(folder.name)
                extracts[entity].append(rows)
    result = {}
    for entity, frames in extracts.items():
        frames = [f for f in frames if len(f)]
        result[entity] = (pd.concat(frames, ignore_index=True) if frames else
                          pd.DataFrame(columns=[*KEPT[entity], "_line", "extract_date"]))
    known = set(result["customers"]["customer_id"])
    for entity in ("orders", "service_activities"):
        frame = result[entity]
        result[entity] = frame[frame["customer_id"].isin(known)]
    return result


def latest_versions(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One row per key: the re-delivery rule over all delivered versions."""
    several = frame.duplicated(key, keep=False)
    single, versions = frame[~several], frame[several].copy()
    grouped = versions.groupby(key)["updated_at"]
    all_timestamped = grouped.transform("count") == grouped.transform("size")
    versions["_by_timestamp"] = versions["updated_at"].where(all_timestamped)
    versions = versions.sort_values(
        key + ["_by_timestamp", "extract_date", "updated_at", "_line"], na_position="first")
    winners = versions.drop_duplicates(key, keep="last").drop(columns="_by_timestamp")
    return pd.concat([single, winners], ignore_index=True)


# ---- the rules ------------------------------------------------------------------------------

def period_start(dates: pd.Series, months: int) -> pd.Series:
    return dates.dt.to_period("Y" if months == 12 else "Q").dt.start_time


def costed_activities(activities: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Current activities: customer, period, minutes and value transfer in 1/10,000 EUR
    (<NA> when no rate is valid on the activity date)."""
    status = activities["status"].fillna("done")
    current = activities[status != "cancelled"].sort_values("activity_date")
    rates = rules.rates.sort_values("valid_from")
    joined = pd.merge_asof(current, rates, left_on="activity_date", right_on="valid_from",
                           by="service_type_code", direction="backward")
    priced = joined["rate_id"].notna() & (
        joined["valid_to"].isna() | (joined["activity_date"] < joined["valid_to"]))
    minutes = joined["duration_minutes"].to_numpy("int64")
    participants = joined["participants"].fillna(1).to_numpy("int64")
    hourly, event, per_participant = (
        joined[name].where(priced, 0).to_numpy("int64")
        for name in ("hourly_rate_eur", "cost_per_event_eur", "cost_per_participant_eur"))
    if len(minutes) and int(minutes.max()) * int(hourly.max()) > 2**62:
        raise OverflowError("a duration times an hourly rate exceeds 64-bit integers")
    # 60 * cost in 1/10^8 EUR: minutes * hourly + 60 * 10^4 * (event + n * per participant);
    # cents = that / (60 * 10^6), half away from zero (never negative: all inputs are >= 0)
    numerator = minutes * hourly + 60 * UNIT * (event + participants * per_participant)
    if (numerator < 0).any():
        raise ValueError("a negative standard cost: the peer rounds non-negative costs only")
    cost = (numerator + 30_000_000) // 60_000_000 * (UNIT // 100)
    billed = joined["billed_amount_eur"].fillna(0).to_numpy("int64")
    value_transfer = np.where(billed == 0, cost, np.where(billed < cost, cost - billed, 0))
    return pd.DataFrame({
        "customer_id": joined["customer_id"],
        "period_start": period_start(joined["activity_date"], rules.period_months),
        "duration_minutes": minutes,
        "value_transfer_eur": pd.Series(value_transfer, dtype="Int64").where(priced.to_numpy()),
    })


def read_forecast(warehouse: Path, rules: Rules) -> dict[str, int]:
    """The purchase model's forecast of a customer's next 12 months in 1/10,000 EUR (revenue,
    or margin when the classic value's basis is the margin), from a published warehouse's
    marts.customer_lifetime_value: the fit's output, taken as an input like the seeds."""
    import duckdb

    column = ("expected_margin_eur" if rules.classic_value_basis == "contribution_margin"
              else "expected_revenue_eur")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            f"select customer_id, cast({column} * {UNIT} as bigint) "
            f"from marts.customer_lifetime_value "
            f"where horizon_months = 12 and {column} is not null").fetchall()
    finally:
        con.close()
    return dict(rows)


def customer_value(landing: Path, rules: Rules | None = None,
                   forecast: dict[str, int] | None = None) -> pd.DataFrame:
    """marts.customer_value as docs/reference.md defines it: one row per customer and period.

    `forecast`: the purchase model's year per customer in 1/10,000 EUR (read_forecast), the
    potential where sales gave none. Money columns hold Decimal values, thresholds exact
    Decimals (they can hold a half of 1/10,000); dates are datetime.date."""
    rules = rules or load_rules()
    extracts = read_landing(landing, rules)
    customers = latest_versions(extracts["customers"], ["customer_id"])
    orders = latest_versions(extracts["orders"], ["order_id", "line_no"])
    activities = costed_activities(
        latest_versions(extracts["service_activities"], ["activity_id"]), rules)

    orders = orders.assign(
        period_start=period_start(orders["order_date"], rules.period_months),
        margin=orders["net_revenue_eur"] - orders["cost_of_goods_eur"].fillna(0))
    by_orders = orders.groupby(["customer_id", "period_start"]).agg(
        revenue_eur=("net_revenue_eur", "sum"), contribution_margin_eur=("margin", "sum"))
    by_activities = activities.groupby(["customer_id", "period_start"]).agg(
        value_transfer_eur=("value_transfer_eur", "sum"),
        service_minutes=("duration_minutes", "sum"),
        service_activities=("duration_minutes", "size"))
    rows = by_orders.join(by_activities, how="outer").fillna(0).reset_index()
    rows = rows.merge(customers[["customer_id", "customer_since", "annual_potential_eur"]],
                      on="customer_id", how="left")
    rows["period_end"] = (rows["period_start"] + pd.DateOffset(months=rules.period_months)
                          - pd.Timedelta(days=1))
    return _classify(rows, rules, forecast)


def _classify(rows: pd.DataFrame, rules: Rules,
              forecast: dict[str, int] | None = None) -> pd.DataFrame:
    """ABC, new customers and potential, classic value, medians and segments, row by row in
    exact arithmetic (one row per customer and period: few enough for Python)."""
    forecast = forecast or {}
    rows = rows.sort_values(["period_start", "revenue_eur", "customer_id"],
                            ascending=[True, False, True], ignore_index=True)
    revenue = rows["revenue_eur"].astype("int64")
    above = revenue.groupby(rows["period_start"]).cumsum() - revenue
    positive = revenue.clip(lower=0).groupby(rows["period_start"]).transform("sum")
    new_after = rows["period_end"] - pd.DateOffset(months=rules.new_customer_months)
    is_new = (rows["customer_since"] > new_after).fillna(False)
    year_fraction = Fraction(rules.period_months, 12)

    out = []
    for i, row in enumerate(rows.itertuples(index=False)):
        rev = int(revenue[i])
        if rev <= 0:
            abc = "C"
        elif int(above[i]) < rules.abc_a_cutoff * int(positive[i]):
            abc = "A"
        elif int(above[i]) < rules.abc_b_cutoff * int(positive[i]):
            abc = "B"
        else:
            abc = "C"
        potential = None
        if not pd.isna(row.annual_potential_eur) and int(row.annual_potential_eur) != 0:
            exact = int(row.annual_potential_eur) * rules.target_share_of_wallet * year_fraction
            potential = _half_away(exact)
        elif row.customer_id in forecast:  # sales gave none, or 0: the purchase model's
            potential = _half_away(forecast[row.customer_id] * year_fraction)
        basis = rev if rules.classic_value_basis == "revenue" else int(
            row.contribution_margin_eur)
        classic = potential if (is_new[i] and potential is not None and potential > basis) \
            else basis
        out.append((row.customer_id, row.period_start.date(), row.period_end.date(), rev,
                    int(row.contribution_margin_eur), int(row.value_transfer_eur),
                    int(row.service_minutes), int(row.service_activities), abc,
                    bool(is_new[i]), potential, classic))
    result = pd.DataFrame(out, columns=[
        "customer_id", "period_start", "period_end", "revenue_eur", "contribution_margin_eur",
        "value_transfer_eur", "service_minutes", "service_activities", "abc_class",
        "is_new_customer", "potential_value_eur", "classic_value_eur"])

    thresholds = {}
    for start, group in result.groupby("period_start"):
        thresholds[start] = (
            rules.classic_value_threshold * UNIT if rules.classic_value_threshold is not None
            else _median(group["classic_value_eur"]),
            rules.value_transfer_threshold * UNIT if rules.value_transfer_threshold is not None
            else _median(group["value_transfer_eur"]),
        )
    classic_t = result["period_start"].map(lambda s: thresholds[s][0])
    transfer_t = result["period_start"].map(lambda s: thresholds[s][1])
    levels = zip(_levels(result["classic_value_eur"], classic_t),
                 _levels(result["value_transfer_eur"], transfer_t), strict=True)
    result["segment"] = [rules.segments[pair] for pair in levels]
    result["classic_threshold"] = classic_t.map(_decimal)
    result["value_transfer_threshold"] = transfer_t.map(_decimal)
    for name in ("revenue_eur", "contribution_margin_eur", "value_transfer_eur",
                 "service_minutes", "potential_value_eur", "classic_value_eur"):
        result[name] = result[name].map(_decimal)
    return result.sort_values(["customer_id", "period_start"], ignore_index=True)


def _levels(values: pd.Series, thresholds: pd.Series) -> list[str]:
    """'high' above the threshold (strictly), else 'low'."""
    return ["high" if v > t else "low" for v, t in zip(values, thresholds, strict=True)]


def _half_away(value: Fraction) -> int:
    magnitude = int((abs(value) + Fraction(1, 2)) // 1)
    return magnitude if value >= 0 else -magnitude


def _median(values: pd.Series) -> Fraction:
    """quantile_cont(0.5) in exact arithmetic."""
    ordered = sorted(int(v) for v in values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def _decimal(units) -> Decimal | None:
    """1/10,000 units (int or exact Fraction) -> Decimal EUR; None stays None."""
    if units is None or (not isinstance(units, Fraction) and pd.isna(units)):
        return None
    value = Fraction(units) / UNIT
    return Decimal(value.numerator) / Decimal(value.denominator)


# ---- result file and comparison -------------------------------------------------------------

def write_result(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


def read_result(path: Path) -> pd.DataFrame:
    """A result written by write_result, with the same Python types."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for name in ("period_start", "period_end"):
        frame[name] = frame[name].map(date.fromisoformat)
    for name in ("revenue_eur", "contribution_margin_eur", "value_transfer_eur",
                 "service_minutes", "potential_value_eur", "classic_value_eur",
                 "classic_threshold", "value_transfer_threshold"):
        frame[name] = frame[name].map(lambda t: Decimal(t) if t else None)
    frame["service_activities"] = frame["service_activities"].astype(int)
    frame["is_new_customer"] = frame["is_new_customer"] == "True"
    return frame


@dataclass
class Comparison:
    rows_compared: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.rows_compared > 0 and not self.differences


def compare(peer: pd.DataFrame, warehouse: Path) -> Comparison:
    """Row by row on (customer_id, period_start), every column in COMPARED, exactly."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        mart = con.execute(
            f"select customer_id, period_start, {', '.join(COMPARED)} "
            "from marts.customer_value").fetchall()
    finally:
        con.close()
    theirs = {(r[0], r[1]): dict(zip(COMPARED, r[2:], strict=True)) for r in mart}
    ours = {(r["customer_id"], r["period_start"]): r
            for r in peer[["customer_id", "period_start", *COMPARED]].to_dict("records")}
    result = Comparison()
    for key in sorted(ours.keys() - theirs.keys()):
        result.differences.append(f"{key[0]} {key[1]}: in the peer only")
    for key in sorted(theirs.keys() - ours.keys()):
        result.differences.append(f"{key[0]} {key[1]}: in the mart only")
    for key in sorted(ours.keys() & theirs.keys()):
        result.rows_compared += 1
        for name in COMPARED:
            mine, mart_value = ours[key][name], theirs[key][name]
            if mine != mart_value:
                result.differences.append(
                    f"{key[0]} {key[1]}: {name} peer {mine} mart {mart_value}")
    return result


def print_comparison(result: Comparison, limit: int = 20) -> None:
    print(f"peer vs marts.customer_value: {result.rows_compared:,} rows compared on "
          f"{len(COMPARED)} columns, {len(result.differences)} differences")
    for line in result.differences[:limit]:
        print(f"  MISMATCH {line}")
    if len(result.differences) > limit:
        print(f"  ... and {len(result.differences) - limit} more")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True, help="landing root")
    parser.add_argument("--out", type=Path, help="write the result as CSV")
    parser.add_argument("--check", type=Path, metavar="WAREHOUSE",
                        help="compare with marts.customer_value of this DuckDB file")
    parser.add_argument("--forecast", type=Path, metavar="WAREHOUSE",
                        help="the purchase model's forecast from this DuckDB file "
                             "(default: the --check warehouse)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rules = load_rules()
    source = args.forecast or args.check
    forecast = read_forecast(source, rules) if source else None
    result = customer_value(args.landing, rules, forecast)
    print(f"peer: {len(result):,} customer-period rows in "
          f"{time.perf_counter() - started:.1f} s")
    if args.out:
        write_result(result, args.out)
    if args.check:
        comparison = compare(result, args.check)
        print_comparison(comparison)
        return 0 if comparison.agrees else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
