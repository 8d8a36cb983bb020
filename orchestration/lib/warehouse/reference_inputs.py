"""Controlling's own capacity data and time equations, in the landing root's folder `reference/`.

The seeds `capacity_inputs` and `time_equations` (dbt_project/seeds/) are the project's
defaults: empty. A deployment's controllers put their own versions beside the deliveries, in
`<landing root>/reference/capacity_inputs.csv` and `<landing root>/reference/time_equations.csv`,
with the seed's header. A file that is there replaces the seed's rows for every load of that
landing root (a file with the header only: no rows); a file that is not leaves the seed's.

The rows reach dbt as the internal var `cvm_reference` ({seed: [[value or null, ...], ...]},
in the seed's column order; macro `reference_rows`), on either engine. Being a var, they are
part of the rules fingerprint: a changed file rebuilds every fact, as a changed seed does.

Every row is checked here first, with the seed's rules and more: a row that breaks one stops
the load before anything runs, with one line naming the file, the line and the reason
(`BadReference`). Nothing is loaded in part.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

from orchestration import settings
from orchestration.lib.landing import REFERENCE_FOLDER
from orchestration.lib.warehouse.dbt_vars import BadVars

FOLDER = REFERENCE_FOLDER
VAR = "cvm_reference"
CAPACITY_INPUTS = "capacity_inputs"
TIME_EQUATIONS = "time_equations"
COLUMNS = {
    CAPACITY_INPUTS: ("capacity_id", "department", "valid_from", "valid_to", "capacity_cost_eur",
                      "theoretical_minutes", "people", "working_days", "minutes_per_day",
                      "practical_share"),
    TIME_EQUATIONS: ("equation_id", "service_type_code", "driver", "minutes"),
}
# the var goes to dbt on its command line, whose one argument holds 128 KiB at most
MAX_VAR_CHARS = 100_000
MAX_DAYS = 366  # a capacity version lasts a year at most (the seed's test)
_DRIVER = re.compile(r"base|participants|channel:[A-Za-z0-9_]+")
# what may stand in a text value: printable, no quote trouble on either engine
_TEXT = re.compile(r"[^\x00-\x1f\x7f\\]+")


class BadReference(BadVars):
    """A reference file that cannot be used; the message names the file, the line and why."""


def folder(landing: Path) -> Path:
    return Path(landing) / FOLDER


def dbt_vars(landing: Path | None) -> dict:
    """{VAR: {seed: rows}} for the reference files in the landing root's folder `reference/`;
    {} when there are none (the seeds' rows hold)."""
    if landing is None:
        return {}
    found = {}
    for seed in COLUMNS:
        path = folder(landing) / f"{seed}.csv"
        if path.is_file():
            found[seed] = read(seed, path)
    if len(json.dumps(found)) > MAX_VAR_CHARS:
        raise BadReference(f"{folder(landing)}: the reference files are too large to hand to "
                           f"dbt ({MAX_VAR_CHARS:,} characters at most, a few hundred rows)")
    return {VAR: found} if found else {}


def read(seed: str, path: Path,
         catalogue: Path = settings.SERVICE_CATALOGUE_CSV) -> list[list[str | None]]:
    """The rows of one reference file, checked, in the seed's column order (None: empty)."""
    columns = COLUMNS[seed]
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if sorted(header) != sorted(columns):
                raise BadReference(
                    f"{path}, line 1: the header must name the columns {', '.join(columns)} "
                    f"(it names {', '.join(header) or 'none'})")
            rows = []
            for values in reader:
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue  # an empty line
                if len(values) != len(header):
                    raise BadReference(f"{path}, line {line}: {len(values)} fields, the header "
                                       f"has {len(header)}")
                row = {name: value.strip() for name, value in zip(header, values, strict=True)}
                rows.append((line, row))
    except UnicodeDecodeError:
        raise BadReference(f"{path}: not UTF-8 text") from None
    except csv.Error as error:
        raise BadReference(f"{path}, line {reader.line_num}: {error}") from None
    check = _check_capacity if seed == CAPACITY_INPUTS else _check_equations
    check(path, rows, catalogue)
    return [[row[name] or None for name in columns] for _, row in rows]


class _Line:
    """The checks of one row, each raising BadReference with the file and line."""

    def __init__(self, path: Path, line: int, row: dict[str, str]):
        self.path, self.line, self.row = path, line, row

    def fail(self, reason: str):
        raise BadReference(f"{self.path}, line {self.line}: {reason}")

    def text(self, name: str) -> str:
        value = self.row[name]
        if not value:
            self.fail(f"{name} is empty")
        if not _TEXT.fullmatch(value):
            self.fail(f"{name} {value!r} holds a control character or a backslash")
        return value

    def date(self, name: str) -> dt.date:
        value = self.text(name)
        try:
            if len(value) != 10:
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{name} {value!r} is no date (YYYY-MM-DD)")

    def number(self, name: str, places: int, integer_digits: int = 12,
               optional: bool = False, positive: bool = True) -> Decimal | None:
        value = self.row[name]
        if not value and optional:
            return None
        what = "a whole number" if places == 0 else f"a number with at most {places} decimal " \
            "places (a point, no thousands separator)"
        fraction = rf"(\.[0-9]{{1,{places}}})?" if places else ""
        if not re.fullmatch(rf"-?[0-9]+{fraction}", value):
            self.fail(f"{name} {value!r} is not {what}")
        number = Decimal(value)
        if abs(number) >= Decimal(10) ** integer_digits:
            self.fail(f"{name} {value!r} is too large")
        if positive and number <= 0:
            self.fail(f"{name} {value!r} must be more than 0")
        return number


def _check_capacity(path: Path, rows: list[tuple[int, dict]], _catalogue: Path) -> None:
    seen: dict[str, int] = {}
    versions: dict[str, list[tuple[dt.date, dt.date, str, int]]] = {}
    for line, row in rows:
        at = _Line(path, line, row)
        capacity_id, department = at.text("capacity_id"), at.text("department")
        if capacity_id in seen:
            at.fail(f"capacity_id {capacity_id!r} is already on line {seen[capacity_id]}")
        seen[capacity_id] = line
        start, end = at.date("valid_from"), at.date("valid_to")
        if not start < end or (end - start).days > MAX_DAYS:
            at.fail(f"valid_from {start} to valid_to {end}: a version lasts from 1 to "
                    f"{MAX_DAYS} days (valid_to is exclusive)")
        at.number("capacity_cost_eur", 2, 16, positive=False)
        if Decimal(row["capacity_cost_eur"]) < 0:
            at.fail(f"capacity_cost_eur {row['capacity_cost_eur']!r} is negative")
        minutes = at.number("theoretical_minutes", 0, 15, optional=True)
        parts = [at.number("people", 2, 7, optional=True),
                 at.number("working_days", 0, 3, optional=True),
                 at.number("minutes_per_day", 0, 4, optional=True)]
        given = all(p is not None for p in parts)
        if (minutes is not None) == given or (not given and any(p is not None for p in parts)):
            at.fail("give the theoretical capacity once: theoretical_minutes, or people, "
                    "working_days and minutes_per_day")
        share = at.number("practical_share", 4, 1, optional=True)
        if share is not None and share > 1:
            at.fail(f"practical_share {row['practical_share']!r} is more than 1")
        for other_start, other_end, other_id, other_line in versions.get(department, []):
            if start < other_end and other_start < end:
                at.fail(f"capacity version {capacity_id!r} of department {department!r} "
                        f"overlaps {other_id!r} (line {other_line})")
        versions.setdefault(department, []).append((start, end, capacity_id, line))


def _check_equations(path: Path, rows: list[tuple[int, dict]], catalogue: Path) -> None:
    with open(catalogue, encoding="utf-8", newline="") as handle:
        types = {row["service_type_code"] for row in csv.DictReader(handle)}
    terms: dict[tuple[str, str], int] = {}
    equations: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        at = _Line(path, line, row)
        equation_id, code = at.text("equation_id"), at.text("service_type_code")
        driver = at.text("driver")
        if code not in types:
            at.fail(f"service_type_code {code!r} is not in the service catalogue")
        if not _DRIVER.fullmatch(driver):
            at.fail(f"driver {driver!r} is none of base, participants, channel:<channel>")
        at.number("minutes", 2, 7, positive=False)
        if (code, driver) in terms:
            at.fail(f"the term {driver!r} of {code} is already on line {terms[code, driver]}")
        terms[code, driver] = line
        other = equations.setdefault(code, (equation_id, line))
        if other[0] != equation_id:
            at.fail(f"{code} has the equation {other[0]!r} already (line {other[1]}); "
                    "one equation per service type")
