"""What every source adapter shares: reading native files with their lines, the mapping
(configuration, not code), currency conversion, and writing the translated records.

A source adapter turns a system's own records (its native files in `<delivery>/<system>/`,
named by the object's API or table name) into rows of the three extracts. Each native file
that yields facts is loaded on its own, under its own name (`<date>/<system>/<file>`), by
`loader.load_records`: every row of it is loaded or rejected with the native line, and the
facts' `source_file` and `line_number` name that file and line. A header file (Salesforce
`Order`, SAP `VBRK`) is read for its items; it yields no facts of its own.

The mapping of a source lives in `mappings/<system>.yml` (settings.mappings_dir); the
currency rates and the customer ids of systems whose ids differ are seeds that controlling
owns (`currency_rates.csv`, `source_customer_ids.csv`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path

import yaml

from orchestration import settings
from orchestration.lib.ingest import dialect as dl
from orchestration.lib.ingest.spec import (
    UNKNOWN_CURRENCY_RATE,
    UNMAPPED_SERVICE_TYPE,
    get_spec,
)

CENT = Decimal("0.01")
NATIVE_RECORD = "native_record"  # the translated record's last column: the native record


class MappingError(ValueError):
    """A mapping file or seed that cannot be read; the message names the file."""


# --- native files ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NativeRow:
    """One record of a native file: its fields by name (as text, trimmed; "" when empty),
    the physical line where it starts, and what kept it from being read."""

    fields: dict[str, str]
    line: int
    problem: str = ""
    problem_detail: str = ""

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    def flag(self, name: str) -> bool:
        """A boolean field: Salesforce 'true', SAP 'X'."""
        return self.get(name).lower() in ("true", "x", "1", "yes")

    @property
    def record(self) -> str:
        """The native record as JSON, as audit.rejected_rows keeps a raw record."""
        return json.dumps(self.fields, ensure_ascii=False)


class NativeRefused(ValueError):
    """A native file that cannot be translated as a whole (a field its adapter needs is not in
    its header); the message names the file and the field."""


def read_native(path: Path, required: tuple[str, ...] = ()) -> list[NativeRow]:
    """The records of a native file with their physical lines, read as the loader reads an
    extract (encoding and delimiter detected, quoted line breaks, over-long records and
    undecodable bytes named). Field names are matched as written in the header; one of
    `required` missing from it refuses the file (NativeRefused)."""
    from orchestration.lib.ingest import reading  # not on import: it sets the csv module's limit

    scan = dl.scan_file(path)
    dialect = dl.detect_dialect(path, scan.encoding)
    with tempfile.TemporaryDirectory(prefix="cvm_native_") as tmp:
        temp = Path(tmp) / "records.csv"
        records = reading.normalise(path, dialect, temp)
        header = [h.strip() for h in records.header]
        missing = [name for name in required if name not in header]
        if missing:
            raise NativeRefused(
                f"{path.parent.parent.name}/{path.parent.name}/{path.name}: required field "
                f"{', '.join(missing)} missing (header: {', '.join(header)})")
        rows = []
        with open(temp, encoding="utf-8", newline="") as handle:
            for values in csv.reader(handle):
                width = len(header)
                fields = {name: values[i].strip() for i, name in enumerate(header)}
                line, n_fields, problem, detail = values[width:width + 4]
                if not problem and int(n_fields) != width:
                    problem, detail = "invalid_value", (
                        f"record has {n_fields} fields, the header {width}")
                rows.append(NativeRow(fields, int(line), problem, detail))
        return rows


# --- the translated records ----------------------------------------------------------------

@dataclass
class Translated:
    """The rows one native file gives to one extract, in the file's order."""

    entity: str
    rows: list[tuple[NativeRow, dict[str, str], str, str]] = field(default_factory=list)

    def add(self, native: NativeRow, values: dict[str, str]) -> None:
        self.rows.append((native, values, native.problem, native.problem_detail))

    def reject(self, native: NativeRow, reason: str, detail: str,
               values: dict[str, str] | None = None) -> None:
        self.rows.append((native, values or {}, reason, detail))

    def writer(self):
        """`write_records` for loader.load_records."""
        columns = get_spec(self.entity).column_names

        def write(path: Path):
            from orchestration.lib.ingest import reading

            header = [*columns, NATIVE_RECORD]
            with open(path, "w", encoding="utf-8", newline="") as handle:
                out = csv.writer(handle, lineterminator="\r\n")
                for native, values, problem, detail in self.rows:
                    out.writerow([*(values.get(c, "") for c in columns), native.record,
                                  native.line, len(header), problem, detail])
            return reading.Records(path=path, header=header, rows=len(self.rows))

        return write


# --- values ---------------------------------------------------------------------------------

_SF_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def stamp(text: str) -> str:
    """An instant as the extracts take it: '2026-11-20T09:15:00.000+0000' (Salesforce) ->
    '2026-11-20T09:15:00+00:00'; a naive one stays naive (local time of the source); text
    that is no timestamp is passed on as it is, for the rules to reject."""
    found = _SF_STAMP.match(text)
    if not found:
        return text
    day, time, _, zone = found.groups()
    if zone in (None, ""):
        return f"{day}T{time}"
    if zone == "Z":
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{day}T{time}{zone}"


def instant(text: str) -> dt.datetime | None:
    """A stamp() text as an aware datetime (naive: in the source time zone); None if none."""
    try:
        value = dt.datetime.fromisoformat(stamp(text))
    except ValueError:
        return None
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo(settings.source_timezone()))
    return value


def latest(*texts: str) -> str:
    """The latest of some stamps (by instant), as stamp() gives it; "" when none is set."""
    known = [(instant(t), stamp(t)) for t in texts if t]
    valid = [k for k in known if k[0] is not None]
    if not valid:
        return known[0][1] if known else ""
    return max(valid, key=lambda k: k[0])[1]


def number(text: str, comma: bool = False) -> Decimal | None:
    """A native amount: '1234.56' ('1234,56' with comma=True); a sign may trail, as SAP
    writes it ('12.00-'). None when the text is no number."""
    text = text.strip().replace(" ", "")
    if text.endswith("-"):
        text = "-" + text[:-1]
    if comma:
        text = text.replace(".", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def decimal_text(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


# --- the mapping ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ServiceRule:
    """One rule of `service_types`: records of `object` (any when empty) whose `field` equals,
    starts with or contains the text (without regard to case) map to the code."""

    service_type_code: str
    field: str
    equals: str | None = None
    starts_with: str | None = None
    contains: str | None = None
    object: str = ""

    def matches(self, object_name: str, row: NativeRow) -> bool:
        if self.object and self.object.lower() != object_name.lower():
            return False
        value = row.get(self.field).lower()
        if self.equals is not None:
            return value == self.equals.lower()
        if self.starts_with is not None:
            return value.startswith(self.starts_with.lower())
        return self.contains is not None and self.contains.lower() in value


RULE_KEYS = {"service_type_code", "field", "equals", "starts_with", "contains", "object"}


class Mapping:
    """The mapping of one source system: `mappings/<system>.yml`, read once."""

    def __init__(self, system: str, directory: Path | None = None):
        self.system = system
        self.path = (directory or settings.mappings_dir()) / f"{system}.yml"
        try:
            self.data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise MappingError(f"{self.path}: no mapping for {system}") from None
        except yaml.YAMLError as error:
            raise MappingError(f"{self.path}: not valid YAML ({error})") from None
        if not isinstance(self.data, dict):
            raise MappingError(f"{self.path}: expected a mapping of settings")
        self.rules = [self._rule(i, r) for i, r in enumerate(self.data.get("service_types")
                                                             or [], start=1)]

    def _rule(self, number_: int, raw) -> ServiceRule:
        where = f"{self.path}: service_types rule {number_}"
        if not isinstance(raw, dict) or set(raw) - RULE_KEYS:
            raise MappingError(f"{where}: expected keys among {', '.join(sorted(RULE_KEYS))}")
        tests = [k for k in ("equals", "starts_with", "contains") if k in raw]
        if len(tests) != 1 or not raw.get("field") or not raw.get("service_type_code"):
            raise MappingError(f"{where}: needs service_type_code, field and one of equals, "
                               "starts_with, contains")
        return ServiceRule(**{k: str(v) for k, v in raw.items()})

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def service_type(self, object_name: str, row: NativeRow) -> str | None:
        return next((r.service_type_code for r in self.rules if r.matches(object_name, row)),
                    None)

    def unmapped(self, object_name: str, row: NativeRow, fields: tuple[str, ...]) -> str:
        """The detail of unmapped_service_type."""
        shown = ", ".join(f"{f} '{row.get(f)}'" for f in fields)
        return f"{object_name} {shown}: no rule of service_types in {self.path.name} maps it"

    def owner(self, owner_id: str) -> tuple[str, str]:
        """(employee_id, department) of an owner id; an owner the mapping does not name keeps
        its id as employee_id and has no department."""
        found = (self.data.get("owners") or {}).get(owner_id)
        if not isinstance(found, dict):
            return owner_id, ""
        return str(found.get("employee_id") or owner_id), str(found.get("department") or "")

    def text(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True)
class Rate:
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None
    eur_per_unit: Decimal


class Seeds:
    """The seeds an adapter reads: currency rates and customer ids (settings.SEEDS_DIR)."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory or settings.SEEDS_DIR

    @cached_property
    def rates(self) -> list[Rate]:
        path = self.directory / "currency_rates.csv"
        rates = []
        for line, row in _seed_rows(path, ("currency", "valid_from", "valid_to",
                                           "eur_per_unit")):
            try:
                rates.append(Rate(
                    row["currency"].upper(), dt.date.fromisoformat(row["valid_from"]),
                    dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
                    Decimal(row["eur_per_unit"]),
                ))
            except (ValueError, InvalidOperation):
                raise MappingError(f"{path}, line {line}: not a rate ({row})") from None
        return rates

    @cached_property
    def customer_ids(self) -> dict[tuple[str, str], str]:
        path = self.directory / "source_customer_ids.csv"
        return {(row["source_system"].lower(), row["source_customer_id"]): row["customer_id"]
                for _, row in _seed_rows(path, ("source_system", "source_customer_id",
                                                "customer_id"))}

    def customer_id(self, system: str, native_id: str) -> str:
        """The warehouse's customer id of a system's customer: the seed's where it names
        one, else the system's own id; empty for a record that names none."""
        if not native_id:
            return ""
        return self.customer_ids.get((system, native_id), native_id)

    def to_eur(self, amount: Decimal, currency: str, on: dt.date) -> Decimal | None:
        """The amount in EUR at the rate valid on the date (valid_from inclusive, valid_to
        exclusive); None when no rate is valid."""
        currency = currency.strip().upper()
        if currency == "EUR":
            return amount
        for rate in self.rates:
            if rate.currency == currency and rate.valid_from <= on and (
                    rate.valid_to is None or on < rate.valid_to):
                return amount * rate.eur_per_unit
        return None

    def no_rate(self, currency: str, on: dt.date) -> tuple[str, str]:
        return UNKNOWN_CURRENCY_RATE, (
            f"currency '{currency}': no rate of currency_rates.csv is valid on "
            f"{on.isoformat()}")

    def text(self) -> bytes:
        return b"".join(p.read_bytes() for p in (self.directory / "currency_rates.csv",
                                                  self.directory / "source_customer_ids.csv")
                        if p.is_file())


def _seed_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        return
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(columns) - set(reader.fieldnames or [])
        if missing:
            raise MappingError(f"{path}: column {', '.join(sorted(missing))} missing")
        for line, row in enumerate(reader, start=2):
            yield line, {k: (v or "").strip() for k, v in row.items() if k}


def unmapped(detail: str) -> tuple[str, str]:
    return UNMAPPED_SERVICE_TYPE, detail


def digest(*parts: bytes) -> str:
    """The sha256 that stands for a native load: its files and its mapping."""
    combined = hashlib.sha256()
    for part in parts:
        combined.update(hashlib.sha256(part).digest())
    return combined.hexdigest()


# --- deliveries -----------------------------------------------------------------------------

def system_folders(landing_root: Path, system: str) -> list[Path]:
    """The system's folders of every delivery of the landing root, latest first: where the
    header of an item is looked up (its latest version, whichever delivery brought it)."""
    found = []
    for child in Path(landing_root).iterdir() if Path(landing_root).is_dir() else []:
        try:
            day = dt.date.fromisoformat(child.name)
        except ValueError:
            continue
        if child.name == day.isoformat() and (child / system).is_dir():
            found.append((day, child / system))
    return [folder for _, folder in sorted(found, reverse=True)]


@dataclass
class Context:
    """What a translation may look at besides its native file: the delivery, the mapping,
    the seeds, and header records (their latest version in any delivery)."""

    landing_root: Path
    extract_date: dt.date
    system: str
    mapping: Mapping
    seeds: Seeds
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by file name
    _headers: dict[str, dict[str, NativeRow]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return Path(self.landing_root) / self.extract_date.isoformat() / self.system

    def headers(self, name: str, key: str) -> dict[str, NativeRow]:
        """The records of header file `name` by their `key` field, each in its latest
        version: of the latest delivery (this one, an earlier or a later one) that holds the
        key. A header that changes later reaches the items delivered before it: their file's
        digest covers every delivery's header files (adapters.load_digest), so it is loaded
        again. A header file without a field its adapter needs (`REQUIRED` of the system's
        module) is refused."""
        if name not in self._headers:
            found: dict[str, NativeRow] = {}
            for folder in system_folders(self.landing_root, self.system):
                path = folder / name
                if path.is_file():
                    for row in read_native(path, self.required.get(name, (key,))):
                        if not row.problem and row.get(key):
                            found.setdefault(row.get(key), row)
            self._headers[name] = found
        return self._headers[name]

    def local_date(self, text: str) -> str:
        """The local date (source time zone) of a Salesforce instant, or the text itself
        when it is a date already or no timestamp (the rules then reject it)."""
        if len(text) <= 10:
            return text
        value = instant(text)
        if value is None:
            return text
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(settings.source_timezone())).date().isoformat()


def as_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def set_line_amounts(out: Translated, row: NativeRow, values: dict, ctx: Context, *,
                     live: bool, amount: Decimal | None, as_given: str, currency: str,
                     cost: Decimal | None = None) -> bool:
    """An order line's revenue (and cost of goods, where the system has it) in EUR, in
    `values`: 0 for a line that is not live (deleted, cancelled, not won); the text as given
    where the amount is no number (the rules reject it); else converted at the rate valid on
    the order date. A line in a currency without a rate is rejected here
    (`unknown_currency_rate`): returns False, and the caller adds nothing."""
    day = as_date(values["order_date"])
    if not live:
        values["net_revenue_eur"], values["cost_of_goods_eur"] = "0.00", "0.00"
    elif amount is None:
        values["net_revenue_eur"] = as_given
    elif day is not None:
        eur = ctx.seeds.to_eur(amount, currency, day)
        if eur is None and not row.problem:
            out.reject(row, *ctx.seeds.no_rate(currency, day), values)
            return False
        values["net_revenue_eur"] = decimal_text(eur) if eur is not None else ""
        if cost is not None and eur is not None:
            values["cost_of_goods_eur"] = decimal_text(ctx.seeds.to_eur(cost, currency, day))
    return True
