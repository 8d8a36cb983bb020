"""Read-only queries of the published warehouse, shared by the cockpit and the value statement.

Every function takes a cursor from :meth:`Warehouse.reader` and reads `marts.*` and
`reference.*` with plain SQL, so it works the same whether the marts are tables or views.
Aggregates are computed in DuckDB; only what is shown comes back to Python.
"""

from __future__ import annotations

import calendar
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib.reports.errors import ReportError
from orchestration.lib.reports.translations import language


class WarehouseMissing(ReportError):
    """The published warehouse file does not exist (yet)."""

    def __init__(self, path: Path):
        super().__init__(f"{path}: no published warehouse (run `cvm load` first)")
        self.path = path


class WarehouseUnreadable(ReportError):
    """The file exists but is no DuckDB warehouse with the marts."""

    def __init__(self, path: Path, reason: str):
        # the line names the path once: the database's own words name it again
        reason = " ".join(reason.replace(f'"{path}"', "").replace(str(path), "").split())
        super().__init__(f"{path}: cannot be read as a warehouse: {reason}")
        self.path = path
        self.reason = reason


class Warehouse:
    """The published DuckDB file, read-only; one DuckDB instance per version of the file.

    `cvm load` publishes a new version by renaming a new file into place. Each
    :meth:`reader` checks the file's identity (device, inode, size, mtime) and attaches a new
    version read-only when it changed, so the next request shows the new state without a
    restart. The file is attached to an in-memory database rather than opened directly:
    DuckDB caches opened files by path, which would hand out the replaced version while an
    older connection is still open. A replaced version is closed once its last cursor is.
    No write lock is ever taken.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._identity: tuple | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def _attach(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:", config={"threads": 2})
        escaped = str(self.path).replace("'", "''")
        try:
            con.execute(f"attach '{escaped}' as warehouse (read_only)")
            con.execute("use warehouse")
            con.execute("select 1 from marts.customer_value limit 0")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseUnreadable(self.path, str(exc).splitlines()[0]) from exc
        return con

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current version of the file, closed when the block ends."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise WarehouseMissing(self.path) from None
        identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            if identity != self._identity or self._con is None:
                # the replaced connection is not closed here: cursors still reading it keep
                # it alive, and it goes when the last of them is closed
                self._con = self._attach()
                self._identity = identity
            cursor = self._con.cursor()
        try:
            cursor.execute("use warehouse")
            yield cursor
        finally:
            cursor.close()


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A period of the marts; ``key`` is how URLs and the command line name it."""

    start: date
    end: date

    @property
    def key(self) -> str:
        s, e = self.start, self.end
        if s.day == 1 and s.month == 1 and e == date(s.year, 12, 31):
            return str(s.year)
        last = 3 * ((s.month - 1) // 3) + 3
        if (s.day == 1 and s.month % 3 == 1
                and e == date(s.year, last, calendar.monthrange(s.year, last)[1])):
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        return s.isoformat()


def periods(con) -> list[Period]:
    """Every period of `marts.customer_value`, oldest first."""
    rows = con.execute(
        "select distinct period_start, period_end from marts.customer_value order by 1"
    ).fetchall()
    return [Period(start, end) for start, end in rows]


def find_period(available: list[Period], key: str | None) -> Period | None:
    """The period named by ``key`` (``2026``, ``2026-Q1`` or its first day); the latest for
    no key; None when no period has that name."""
    if not available:
        return None
    if not key:
        return available[-1]
    key = key.strip()
    for period in available:
        if key in (period.key, period.start.isoformat()):
            return period
    return None


# --------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class Segment:
    """A row of the seed `reference.segments`."""

    code: str
    display_order: int
    classic_value_level: str
    value_transfer_level: str
    label_de: str
    label_en: str
    strategy_en: str
    strategy_de: str

    def label(self, lang: str) -> str:
        return self.label_en if language(lang) == "en" else self.label_de

    def strategy(self, lang: str) -> str:
        return self.strategy_en if language(lang) == "en" else self.strategy_de

    def advice(self, lang: str) -> str:
        """The strategy as shown beside the segment's label: without a leading repeat of the
        label (``Investitionskunden: Mehrwertleistungen …`` → ``Mehrwertleistungen …``);
        empty when the strategy is the label itself."""
        label, strategy = self.label(lang).strip(), self.strategy(lang).strip()
        if strategy.casefold() == label.casefold():
            return ""
        if strategy.casefold().startswith(label.casefold() + ":"):
            rest = strategy[len(label) + 1:].strip()
            return rest[:1].upper() + rest[1:]
        return strategy


def segments(con) -> list[Segment]:
    """The portfolio's segments in display order, with labels and strategies."""
    rows = con.execute(
        """
        select segment, display_order, classic_value_level, value_transfer_level,
               segment_label_de, segment_label_en, strategy, strategy_de
        from reference.segments
        order by display_order
        """
    ).fetchall()
    return [Segment(*row) for row in rows]


@dataclass(frozen=True)
class ServiceType:
    """A row of `marts.dim_service_types`."""

    code: str
    name_de: str
    name_en: str
    cost_driver: str
    customer_name_de: str  # the names the customer reads (the statement)
    customer_name_en: str

    @property
    def counts_participants(self) -> bool:
        """Participants matter for services costed per participant (trainings)."""
        return self.cost_driver == "participant"

    def name(self, lang: str) -> str:
        return self.name_en if language(lang) == "en" else self.name_de

    def customer_name(self, lang: str) -> str:
        """The name written for the customer: no internal label, the customer as "you"."""
        return self.customer_name_en if language(lang) == "en" else self.customer_name_de


def service_types(con) -> dict[str, ServiceType]:
    """The service catalogue by code, in the catalogue's names."""
    rows = con.execute(
        "select service_type_code, name_de, name_en, cost_driver, customer_name_de, "
        "customer_name_en from marts.dim_service_types"
    ).fetchall()
    return {row[0]: ServiceType(*row) for row in rows}


def data_as_of(con) -> date | None:
    """The extract date of the latest customer snapshot in the warehouse."""
    return con.execute("select max(last_extract_date) from marts.dim_customers").fetchone()[0]


# --------------------------------------------------------------------------- portfolio

# A new customer whose classic value is its potential: the marts lift it to the potential
# only when that is greater than its revenue (or margin) basis.
VALUED_BY_POTENTIAL = (
    "coalesce(cv.is_new_customer and cv.classic_value_eur > cv.classic_basis_eur, false)"
)

PORTFOLIO_FILTERS = {
    "manager": "customers.account_manager",
    "region": "customers.region",
    "industry": "customers.industry",
    "segment": "cv.segment",
}


def _portfolio_where(period: Period, filters: dict[str, str | None]) -> tuple[str, list]:
    clauses, params = ["cv.period_start = ?"], [period.start]
    for key, column in PORTFOLIO_FILTERS.items():
        if filters.get(key):
            clauses.append(f"{column} = ?")
            params.append(filters[key])
    return " and ".join(clauses), params


_PORTFOLIO_FROM = """
    from marts.customer_value as cv
    left join marts.dim_customers as customers on customers.customer_id = cv.customer_id
"""


def portfolio_points(con, period: Period, filters: dict[str, str | None]) -> dict:
    """One entry per customer of the period that passes the filters, as numpy columns."""
    where, params = _portfolio_where(period, filters)
    return con.execute(
        f"""
        select cv.customer_id, customers.customer_name, cv.segment,
               cast(cv.revenue_eur as double) as revenue_eur,
               cast(cv.classic_value_eur as double) as classic_value_eur,
               cast(cv.value_transfer_eur as double) as value_transfer_eur,
               {VALUED_BY_POTENTIAL} as is_valued_by_potential
        {_PORTFOLIO_FROM}
        where {where}
        order by cv.revenue_eur desc, cv.customer_id
        """,
        params,
    ).fetchnumpy()


@dataclass(frozen=True)
class PortfolioFrame:
    """What the portfolio needs besides the points: thresholds, counts, filter options."""

    classic_threshold: float | None
    value_transfer_threshold: float | None
    customers: int
    classic_range: tuple[float, float, float | None]  # min, max, smallest value above 0
    transfer_range: tuple[float, float, float | None]
    managers: list[str]
    regions: list[str]
    industries: list[str]


def portfolio_frame(con, period: Period) -> PortfolioFrame:
    """The period's thresholds (the ones the marts used), its size, the extent of both values
    (so that filtering keeps the axes) and the filter options."""
    thresholds = con.execute(
        """
        select cast(max(classic_threshold) as double), cast(max(value_transfer_threshold) as
               double), count(*),
               cast(min(classic_value_eur) as double), cast(max(classic_value_eur) as double),
               cast(min(classic_value_eur) filter (where classic_value_eur > 0) as double),
               cast(min(value_transfer_eur) as double), cast(max(value_transfer_eur) as double),
               cast(min(value_transfer_eur) filter (where value_transfer_eur > 0) as double)
        from marts.customer_value where period_start = ?
        """,
        [period.start],
    ).fetchone()
    options = con.execute(
        f"""
        select customers.account_manager, customers.region, customers.industry
        {_PORTFOLIO_FROM}
        where cv.period_start = ?
        group by grouping sets ((customers.account_manager), (customers.region),
                                (customers.industry))
        """,
        [period.start],
    ).fetchall()
    return PortfolioFrame(
        classic_threshold=thresholds[0],
        value_transfer_threshold=thresholds[1],
        customers=thresholds[2],
        classic_range=thresholds[3:6],
        transfer_range=thresholds[6:9],
        managers=sorted({r[0] for r in options if r[0] is not None}),
        regions=sorted({r[1] for r in options if r[1] is not None}),
        industries=sorted({r[2] for r in options if r[2] is not None}),
    )


def portfolio_by_segment(con, period: Period, filters: dict[str, str | None]) -> dict[str, tuple]:
    """Customers, revenue and value transfer per segment of the filtered customers."""
    where, params = _portfolio_where(period, filters)
    rows = con.execute(
        f"""
        select cv.segment, count(*), sum(cv.revenue_eur), sum(cv.value_transfer_eur)
        {_PORTFOLIO_FROM}
        where {where}
        group by cv.segment
        """,
        params,
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def find_customers(con, term: str, limit: int = 20) -> list[tuple[str, str]]:
    """Customers whose id or name contains ``term`` (case-insensitive): (id, name)."""
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return con.execute(
        """
        select customer_id, customer_name from marts.dim_customers
        where customer_id ilike ? escape '\\' or customer_name ilike ? escape '\\'
        order by customer_name, customer_id
        limit ?
        """,
        [pattern, pattern, limit],
    ).fetchall()


# --------------------------------------------------------------------------- one customer


@dataclass(frozen=True)
class Customer:
    """A customer's latest attributes (`marts.dim_customers`)."""

    customer_id: str
    customer_name: str
    customer_since: date | None
    status: str | None
    account_manager: str | None
    region: str | None
    industry: str | None
    country_code: str | None


def customer(con, customer_id: str) -> Customer | None:
    """The customer, or None when the warehouse does not know it."""
    row = con.execute(
        """
        select customer_id, customer_name, customer_since, status, account_manager, region,
               industry, country_code
        from marts.dim_customers where customer_id = ?
        """,
        [customer_id],
    ).fetchone()
    return Customer(*row) if row else None


def data_through(con) -> date | None:
    """The last extract date the marts hold (None before the first load)."""
    return con.execute("select max(data_through) from marts.customer_value").fetchone()[0]


def customer_name(con, customer_id: str) -> str | None:
    """The customer's name alone (what a customer-facing document may show), or None when the
    warehouse does not know the customer."""
    row = con.execute(
        "select customer_name from marts.dim_customers where customer_id = ?", [customer_id]
    ).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class CustomerValue:
    """A customer's row of `marts.customer_value` for one period (internal figures)."""

    revenue_eur: float
    contribution_margin_eur: float
    share_of_wallet: float | None
    abc_class: str
    classic_value_eur: float
    is_valued_by_potential: bool
    value_transfer_eur: float
    segment: str


def customer_value(con, customer_id: str, period: Period) -> CustomerValue | None:
    """The customer's values in the period, or None when it has no row there."""
    row = con.execute(
        f"""
        select revenue_eur, contribution_margin_eur, share_of_wallet, abc_class,
               classic_value_eur,
               {VALUED_BY_POTENTIAL},
               value_transfer_eur, segment
        from marts.customer_value as cv
        where customer_id = ? and period_start = ?
        """,
        [customer_id, period.start],
    ).fetchone()
    return CustomerValue(*row) if row else None


@dataclass(frozen=True)
class ServiceTotals:
    """Totals of a customer's services in a period; ``service_type_code`` None = all."""

    service_type_code: str | None
    activities: int
    minutes: float
    participants: int
    standard_cost_eur: float | None
    billed_eur: float
    value_transfer_eur: float | None
    # why standard cost − billed is not the value transfer: services billed above their
    # standard cost count 0 (never negative), and services without a rate have no cost
    over_billed: int = 0
    over_billed_eur: float = 0.0
    unpriced: int = 0
    unpriced_billed_eur: float = 0.0


def service_totals(con, customer_id: str, period: Period) -> list[ServiceTotals]:
    """Per service type, then the grand total last: one scan of the cockpit mart."""
    rows = con.execute(
        """
        select service_type_code, count(*), sum(duration_minutes), sum(participants),
               sum(standard_cost_eur), sum(billed_amount_eur), sum(value_transfer_eur),
               count(*) filter (where billed_amount_eur > standard_cost_eur),
               coalesce(sum(billed_amount_eur - standard_cost_eur)
                        filter (where billed_amount_eur > standard_cost_eur), 0),
               count(*) filter (where standard_cost_eur is null),
               coalesce(sum(billed_amount_eur) filter (where standard_cost_eur is null), 0)
        from marts.customer_cockpit
        where customer_id = ? and period_start = ?
        group by grouping sets ((service_type_code), ())
        order by service_type_code is null, sum(value_transfer_eur) desc nulls last,
                 service_type_code
        """,
        [customer_id, period.start],
    ).fetchall()
    return [ServiceTotals(*row) for row in rows]


# The service list's sortable columns and their SQL; nothing else reaches ORDER BY.
SERVICE_SORT_COLUMNS = {
    "date": "activity_date",
    "service_de": "service_name_de",
    "service_en": "service_name_en",
    "background": "description",
    "duration": "duration_minutes",
    "participants": "participants",
    "employee": "employee_id",
    "standard_cost": "standard_cost_eur",
    "billed": "billed_amount_eur",
    "kind": "transfer_kind",
    "value_transfer": "value_transfer_eur",
}
TRANSFER_KINDS = ("free", "discounted", "billed")


@dataclass(frozen=True)
class ServiceFilter:
    """Which of a customer's services to list: by type, by transfer kind, by background text.

    ``transfer_kind`` ``unpriced`` selects activities without a standard cost rate."""

    service_type_code: str | None = None
    transfer_kind: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class ServicePage:
    rows: list[dict]
    total: int


def service_page(
    con, customer_id: str, period: Period, *, sort: list[tuple[str, bool]] | None = None,
    where: ServiceFilter | None = None, offset: int = 0, limit: int = 25,
) -> ServicePage:
    """One page of the customer's services in the period, sorted and filtered in SQL.

    ``sort`` is a list of (column key, descending); unknown keys are ignored. The date, then
    the activity id, break ties so that pages never overlap."""
    where = where or ServiceFilter()
    clauses, params = ["customer_id = ?", "period_start = ?"], [customer_id, period.start]
    if where.service_type_code:
        clauses.append("service_type_code = ?")
        params.append(where.service_type_code)
    if where.transfer_kind == "unpriced":
        clauses.append("transfer_kind is null")
    elif where.transfer_kind in TRANSFER_KINDS:
        clauses.append("transfer_kind = ?")
        params.append(where.transfer_kind)
    if where.text and where.text.strip():
        clauses.append("description ilike ? escape '\\'")
        term = where.text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{term}%")
    order = [
        f"{SERVICE_SORT_COLUMNS[key]} {'desc' if desc else 'asc'} nulls last"
        for key, desc in (sort or []) if key in SERVICE_SORT_COLUMNS
    ] + ["activity_date desc", "activity_id"]
    cursor = con.execute(
        f"""
        select activity_id, activity_date, service_type_code, service_name_de,
               service_name_en, description, duration_minutes, participants, employee_id,
               standard_cost_eur, billed_amount_eur, transfer_kind, value_transfer_eur,
               count(*) over () as total_rows
        from marts.customer_cockpit
        where {' and '.join(clauses)}
        order by {', '.join(order)}
        limit ? offset ?
        """,
        [*params, max(1, int(limit)), max(0, int(offset))],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    total = rows[0]["total_rows"] if rows else 0
    if not rows and offset > 0:
        total = con.execute(
            f"select count(*) from marts.customer_cockpit where {' and '.join(clauses)}", params
        ).fetchone()[0]
    return ServicePage(rows=rows, total=total)


@dataclass(frozen=True)
class HistoryRow:
    period: Period
    revenue_eur: float
    value_transfer_eur: float
    segment: str
    previous_segment: str | None


def customer_history(con, customer_id: str) -> list[HistoryRow]:
    """The customer's revenue, value transfer and segment path over all its periods."""
    rows = con.execute(
        """
        select cv.period_start, cv.period_end, cv.revenue_eur, cv.value_transfer_eur,
               cv.segment, migration.previous_segment
        from marts.customer_value as cv
        left join marts.segment_migration as migration
            on migration.customer_id = cv.customer_id
            and migration.period_start = cv.period_start
        where cv.customer_id = ?
        order by cv.period_start
        """,
        [customer_id],
    ).fetchall()
    return [HistoryRow(Period(r[0], r[1]), *r[2:]) for r in rows]


# --------------------------------------------------------------------------- migration


def migration_matrix(con, source: Period, target: Period) -> dict[tuple, int]:
    """Customers per (segment in ``source``, segment in ``target``); None = no row there."""
    rows = con.execute(
        """
        with source as (
            select customer_id, segment from marts.customer_value where period_start = ?
        ),
        target as (
            select customer_id, segment from marts.customer_value where period_start = ?
        )
        select source.segment, target.segment, count(*)
        from source
        full outer join target on source.customer_id = target.customer_id
        group by all
        """,
        [source.start, target.start],
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def migration_customers(
    con, source: Period, target: Period, source_segment: str | None,
    target_segment: str | None, limit: int = 500,
) -> list[tuple]:
    """The customers of one cell: (id, name, revenue and value transfer in ``target``)."""
    return con.execute(
        """
        with source as (
            select customer_id, segment from marts.customer_value where period_start = ?
        ),
        target as (
            select customer_id, segment, revenue_eur, value_transfer_eur
            from marts.customer_value where period_start = ?
        ),
        cell as (
            select coalesce(source.customer_id, target.customer_id) as customer_id,
                   target.revenue_eur, target.value_transfer_eur
            from source
            full outer join target on source.customer_id = target.customer_id
            where source.segment is not distinct from ?
              and target.segment is not distinct from ?
        )
        select cell.customer_id, customers.customer_name, cell.revenue_eur,
               cell.value_transfer_eur
        from cell
        left join marts.dim_customers as customers on customers.customer_id = cell.customer_id
        order by cell.revenue_eur desc nulls last, cell.customer_id
        limit ?
        """,
        [source.start, target.start, source_segment, target_segment, limit],
    ).fetchall()


# --------------------------------------------------------------------------- the statement
# The statement reads the value-transfer ledger (`marts.fct_value_transfers`): exactly the
# free and discounted services, so the rule of what counts lives in the marts alone.


@dataclass(frozen=True)
class GivenTotals:
    """Free and discounted services of one type (or all: code None) in a date range."""

    service_type_code: str | None
    activities: int
    minutes: float
    participants: int
    standard_cost_eur: float
    billed_eur: float
    value_given_eur: float


def given_by_service_type(con, customer_id: str, start: date, end: date) -> list[GivenTotals]:
    """Per service type, largest value first, then the grand total last."""
    rows = con.execute(
        """
        select service_type_code, count(*), sum(duration_minutes), sum(participants),
               sum(standard_cost_eur), sum(billed_amount_eur), sum(value_transfer_eur)
        from marts.fct_value_transfers
        where customer_id = ? and activity_date between ? and ?
        group by grouping sets ((service_type_code), ())
        order by service_type_code is null, sum(value_transfer_eur) desc, service_type_code
        """,
        [customer_id, start, end],
    ).fetchall()
    return [GivenTotals(*row) for row in rows]


@dataclass(frozen=True)
class GivenService:
    activity_date: date
    service_type_code: str
    description: str | None
    minutes: float
    participants: int
    standard_cost_eur: float
    billed_eur: float
    value_given_eur: float


def most_significant_given(
    con, customer_id: str, start: date, end: date, limit: int = 10
) -> list[GivenService]:
    """The free and discounted services of the range with the largest value given."""
    rows = con.execute(
        """
        select activity_date, service_type_code, description, duration_minutes, participants,
               standard_cost_eur, billed_amount_eur, value_transfer_eur
        from marts.fct_value_transfers
        where customer_id = ? and activity_date between ? and ?
        order by value_transfer_eur desc, activity_date, activity_id
        limit ?
        """,
        [customer_id, start, end, limit],
    ).fetchall()
    return [GivenService(*row) for row in rows]


def given_by_period(con, customer_id: str, up_to: date) -> list[tuple[Period, int, float, float]]:
    """For every period of the marts that ends by ``up_to`` and after the customer's start:
    (period, services, minutes, value given) of its free and discounted services; zeros
    where there were none."""
    rows = con.execute(
        """
        with calendar as (
            select distinct period_start, period_end from marts.customer_value
            where period_end <= ?
              and period_end >= coalesce((select customer_since from marts.dim_customers
                                          where customer_id = ?), date '1900-01-01')
        ),
        given as (
            select period_start, count(*) as activities, sum(duration_minutes) as minutes,
                   sum(value_transfer_eur) as value_given_eur
            from marts.fct_value_transfers
            where customer_id = ? and activity_date <= ?
            group by period_start
        )
        select calendar.period_start, calendar.period_end, coalesce(given.activities, 0),
               coalesce(given.minutes, 0), coalesce(given.value_given_eur, 0)
        from calendar
        left join given on given.period_start = calendar.period_start
        order by calendar.period_start
        """,
        [up_to, customer_id, customer_id, up_to],
    ).fetchall()
    return [(Period(r[0], r[1]), r[2], r[3], r[4]) for r in rows]
