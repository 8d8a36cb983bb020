"""The three extracts: columns, types, required flags and row rules.

This module is the one place that knows what a landing file must hold. Derived from it: the
row rules (rules.py), the raw and pending tables, the Great Expectations suites
(expectations/*.json, written by suites.py), the sample generator's and the tests' headers,
and the column tables of docs/reference.md (a test holds them to it).

Decided here:
- `participants` must be >= 1; a value below its minimum is rejected as `negative_value`
  (the reason code for "below the column's lower bound").
- `status` and `country_code` are compared without regard to case; raw keeps them as
  lower-case (status) and upper-case (country code).
- `duplicate_key` applies to all three extracts alike: rows with the same key AND the same
  `updated_at` (both missing counts as the same) but different content are all rejected.
  Rows with the same key and different `updated_at` all load: the re-delivery rule (latest
  `updated_at` wins) is applied by dbt staging. For customers this keeps "unique within the
  file" strict for what the file cannot order, and leaves ordered versions to staging.
- A record (its bytes in the file, line breaks included) may be at most MAX_RECORD_BYTES long;
  a longer one is rejected as `record_too_long` and is never held in memory whole.
- An event date (`order_date`, `activity_date`) lies between EARLIEST_EVENT_DATE and its
  delivery's extract date, both inclusive; outside, it is `invalid_date`.
- `updated_at` is an instant: with an offset as given, without one as local time in the source
  time zone (settings.source_timezone). raw keeps it as UTC in a TIMESTAMP column without time
  zone, so that every reader compares instants the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The extracts, in load order within a delivery: customers first, so that orders and
# activities of a customer who arrives in the same delivery are not rejected as unknown.
ENTITIES = ("customers", "orders", "service_activities")

MAX_RECORD_BYTES = 1 << 20  # 1 MiB = 1,048,576 bytes
EARLIEST_EVENT_DATE = dt.date(1900, 1, 1)

# Reason codes, in the order in which they are tried (first that applies wins). rules.py builds
# its checks in this order: the two about the record as read (it is too long, or holds bytes
# that do not decode; its fields are not judged then), the per-row reasons, then the two that
# compare rows with other rows (DUPLICATE_KEY within the file, UNKNOWN_CUSTOMER against the
# snapshots).
RECORD_TOO_LONG = "record_too_long"
INVALID_ENCODING = "invalid_encoding"
MISSING_REQUIRED_FIELD = "missing_required_field"
INVALID_NUMBER = "invalid_number"
INVALID_DATE = "invalid_date"
INVALID_VALUE = "invalid_value"
NEGATIVE_VALUE = "negative_value"
UNKNOWN_SERVICE_TYPE = "unknown_service_type"
DUPLICATE_KEY = "duplicate_key"
UNKNOWN_CUSTOMER = "unknown_customer"
# the reasons only a source adapter gives (adapters/): a native record whose activity type
# no rule of the source's mapping names, an amount in a currency without a rate on its date
UNMAPPED_SERVICE_TYPE = "unmapped_service_type"
UNKNOWN_CURRENCY_RATE = "unknown_currency_rate"
REASONS = (
    RECORD_TOO_LONG,
    INVALID_ENCODING,
    UNMAPPED_SERVICE_TYPE,
    UNKNOWN_CURRENCY_RATE,
    MISSING_REQUIRED_FIELD,
    INVALID_NUMBER,
    INVALID_DATE,
    INVALID_VALUE,
    NEGATIVE_VALUE,
    UNKNOWN_SERVICE_TYPE,
    DUPLICATE_KEY,
    UNKNOWN_CUSTOMER,
)

# The classes of personal data; every text column has one (personal.py says what each means).
FREE_TEXT = "free_text"  # e-mail addresses and phone numbers in it are masked
PERSON = "person"  # a person's identifier: kept; a keyed pseudonym when a key is set
CODE = "code"  # an e-mail address in it is masked and counted among the load's warnings
PERSONAL_CLASSES = (FREE_TEXT, PERSON, CODE)

SQL_TYPES = {
    "text": "VARCHAR",
    "int": "INTEGER",
    "decimal": "DECIMAL(18,4)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

LINEAGE_COLUMNS = (
    ("extract_date", "DATE"),
    ("source_file", "VARCHAR"),
    ("line_number", "BIGINT"),
    ("loaded_at", "TIMESTAMP"),
)


@dataclass(frozen=True)
class Column:
    """One column of an extract and the row rules that apply to it."""

    name: str
    kind: str = "text"  # text | int | decimal | date | timestamp
    required: bool = False
    min_value: int | None = None  # lower bound (inclusive) -> negative_value
    allowed: tuple[str, ...] | None = None  # accepted values (lower case) -> invalid_value
    pattern: str | None = None  # regular expression the value must match -> invalid_value
    case: str | None = None  # "lower" | "upper": how the text is stored
    event_date: bool = False  # a date from EARLIEST_EVENT_DATE to the extract date -> invalid_date
    personal: str | None = None  # a text column's class of personal data: PERSONAL_CLASSES

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class EntitySpec:
    """One extract: its columns in raw-table order, its key and its references."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks_customer: bool = False  # unknown_customer applies
    checks_service_type: bool = False  # unknown_service_type applies

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns whose header must be present: the required ones.

        An optional column may be absent from the header; its values load as NULL.
        """
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def table_columns(self) -> list[str]:
        """The raw table's columns: the extract's, then the lineage columns."""
        return self.column_names + [name for name, _ in LINEAGE_COLUMNS]

    @property
    def typed_table_columns(self) -> list[tuple[str, str]]:
        """(name, DuckDB type) of the raw table's columns, in order."""
        return [(c.name, c.sql_type) for c in self.columns] + list(LINEAGE_COLUMNS)

    @property
    def table_ddl(self) -> str:
        """Column definitions of raw.<entity> (and of audit.pending_<entity>, its twin)."""
        return ", ".join(f'"{name}" {sql_type}' for name, sql_type in self.typed_table_columns)


CUSTOMERS = EntitySpec(
    name="customers",
    columns=(
        Column("customer_id", required=True, personal=CODE),
        Column("customer_name", required=True, personal=FREE_TEXT),
        Column("industry", personal=CODE),
        Column("region", personal=CODE),
        Column("account_manager", personal=PERSON),
        Column("country_code", pattern="^[A-Za-z]{2}$", case="upper", personal=CODE),
        Column("customer_since", "date", required=True),
        Column("annual_potential_eur", "decimal", min_value=0),
        Column("status", allowed=("active", "inactive", "prospect"), case="lower", personal=CODE),
        Column("updated_at", "timestamp"),
    ),
    key=("customer_id",),
)

ORDERS = EntitySpec(
    name="orders",
    columns=(
        Column("order_id", required=True, personal=CODE),
        Column("line_no", "int", required=True),
        Column("customer_id", required=True, personal=CODE),
        Column("order_date", "date", required=True, event_date=True),
        Column("product_group", personal=CODE),
        Column("net_revenue_eur", "decimal", required=True),
        Column("cost_of_goods_eur", "decimal"),
        Column("updated_at", "timestamp"),
    ),
    key=("order_id", "line_no"),
    checks_customer=True,
)

SERVICE_ACTIVITIES = EntitySpec(
    name="service_activities",
    columns=(
        Column("activity_id", required=True, personal=CODE),
        Column("customer_id", required=True, personal=CODE),
        Column("service_type_code", required=True, personal=CODE),
        Column("activity_date", "date", required=True, event_date=True),
        Column("duration_minutes", "decimal", required=True, min_value=0),
        Column("participants", "int", min_value=1),
        Column("employee_id", personal=PERSON),
        Column("department", personal=CODE),
        Column("channel", personal=CODE),
        Column("billed_amount_eur", "decimal", min_value=0),
        Column("description", personal=FREE_TEXT),
        Column("status", allowed=("done", "cancelled"), case="lower", personal=CODE),
        Column("updated_at", "timestamp"),
    ),
    key=("activity_id",),
    checks_customer=True,
    checks_service_type=True,
)

SPECS: dict[str, EntitySpec] = {s.name: s for s in (CUSTOMERS, ORDERS, SERVICE_ACTIVITIES)}

# The extracts whose rows may wait for their customer (audit.pending_<entity>).
HELD_ENTITIES = tuple(s.name for s in SPECS.values() if s.checks_customer)


def get_spec(entity: str) -> EntitySpec:
    """The spec of an extract; a clear error for an unknown entity name."""
    try:
        return SPECS[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}; expected one of {ENTITIES}") from None
