"""The cockpit's read-only queries of the published warehouse: the portfolio and the value of
the customer base, one customer and its forecast, the segment migration.

Every function takes a cursor from `access.reader` and reads the marts with plain SQL, by their
names without the schema (`from customer_value`, not `marts.customer_value`): those names are
the viewer's views of the marts, holding only the customers the signed-in person may see
(access.py). It works the same whether the marts are tables or views. Aggregates are computed
in DuckDB; only what is shown comes back to Python. Periods, reference data and the warehouse itself
come from `lib/reports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from orchestration.lib.reports.periods import PERIOD_COLUMNS, Period
from orchestration.lib.sql import like_pattern, records

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
    from customer_value as cv
    left join dim_customers as customers on customers.customer_id = cv.customer_id
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
        from customer_value where period_start = ?
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


@dataclass(frozen=True)
class EquityRow:
    """One as-of date and segment of `marts.customer_equity`: the value of the base."""

    as_of_date: date
    segment: str
    customers: int
    clv_eur: float | None
    expected_margin_eur: float | None
    mean_p_alive: float | None


def customer_equity(con) -> list[EquityRow] | None:
    """The value of the customer base per as-of date and segment, oldest first; None for a
    viewer who does not see every customer: its rows are totals over all customers, so
    access.py gives such a viewer no relation of that name."""
    if not _visible(con, "customer_equity"):
        return None
    rows = con.execute(
        """
        select as_of_date, segment, customers, clv_eur, expected_margin_eur, mean_p_alive
        from customer_equity
        order by as_of_date, segment
        """
    ).fetchall()
    return [EquityRow(*row) for row in rows]


def _visible(con, name: str) -> bool:
    """Whether the plain name resolves on this cursor: a temporary view of the viewer's, or a
    relation of the schema in use (the marts, for a viewer who sees every customer). Asked
    first, because a name that does not resolve is looked up among Python's objects."""
    return con.execute(
        """
        select count(*) from (
            select table_name as name, temporary, database_name, schema_name
            from duckdb_tables()
            union all
            select view_name, temporary, database_name, schema_name from duckdb_views()
        )
        where name = ? and (temporary or (database_name = current_database()
                                          and schema_name = current_schema()))
        """,
        [name],
    ).fetchone()[0] > 0


def find_customers(con, term: str, limit: int = 20) -> list[tuple[str, str]]:
    """Customers whose id or name contains ``term`` (case-insensitive): (id, name)."""
    pattern = like_pattern(term)
    return con.execute(
        """
        select customer_id, customer_name from dim_customers
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
        from dim_customers where customer_id = ?
        """,
        [customer_id],
    ).fetchone()
    return Customer(*row) if row else None


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
    # the potential the customer is judged by, and where it comes from ('crm' | 'model' |
    # 'none'); the purchase model's estimate for the period, also where sales gave one
    potential_value_eur: float | None
    potential_source: str
    model_potential_value_eur: float | None


def customer_value(con, customer_id: str, period: Period) -> CustomerValue | None:
    """The customer's values in the period, or None when it has no row there."""
    row = con.execute(
        f"""
        select revenue_eur, contribution_margin_eur, share_of_wallet, abc_class,
               classic_value_eur,
               {VALUED_BY_POTENTIAL},
               value_transfer_eur, segment,
               potential_value_eur, potential_source, model_potential_value_eur
        from customer_value as cv
        where customer_id = ? and period_start = ?
        """,
        [customer_id, period.start],
    ).fetchone()
    return CustomerValue(*row) if row else None


@dataclass(frozen=True)
class LifetimeValue:
    """A customer's row of `marts.customer_lifetime_value`: what the purchase model expects
    of it over the horizon, as of the data's end. The figures are None where the model was
    not fitted (p_alive and expected_purchases: BG/NBD; the margin and clv_eur: also
    Gamma-Gamma on margin)."""

    as_of_date: date
    horizon_months: int
    purchases: int
    p_alive: float | None
    expected_purchases: float | None
    expected_margin_eur: float | None
    clv_eur: float | None


def lifetime_value(con, customer_id: str) -> LifetimeValue | None:
    """The customer's purchase-model forecast, or None when it has no row (no purchase)."""
    row = con.execute(
        """
        select as_of_date, horizon_months, purchases,
               -- a double the fit left NaN counts as no value
               case when not isnan(p_alive) then p_alive end,
               case when not isnan(expected_purchases) then expected_purchases end,
               expected_margin_eur, clv_eur
        from customer_lifetime_value
        where customer_id = ?
        """,
        [customer_id],
    ).fetchone()
    return LifetimeValue(*row) if row else None


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
    return records(
        con, ServiceTotals,
        """
        select service_type_code, count(*), sum(duration_minutes), sum(participants),
               sum(standard_cost_eur), sum(billed_amount_eur), sum(value_transfer_eur),
               count(*) filter (where billed_amount_eur > standard_cost_eur),
               coalesce(sum(billed_amount_eur - standard_cost_eur)
                        filter (where billed_amount_eur > standard_cost_eur), 0),
               count(*) filter (where standard_cost_eur is null),
               coalesce(sum(billed_amount_eur) filter (where standard_cost_eur is null), 0)
        from customer_cockpit
        where customer_id = ? and period_start = ?
        group by grouping sets ((service_type_code), ())
        order by service_type_code is null, sum(value_transfer_eur) desc nulls last,
                 service_type_code
        """,
        [customer_id, period.start],
    )


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
    "rate": "rate_id",
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
        params.append(like_pattern(where.text.strip()))
    order = [
        f"{SERVICE_SORT_COLUMNS[key]} {'desc' if desc else 'asc'} nulls last"
        for key, desc in (sort or []) if key in SERVICE_SORT_COLUMNS
    ] + ["activity_date desc", "activity_id"]
    cursor = con.execute(
        f"""
        select activity_id, activity_date, service_type_code, service_name_de,
               service_name_en, description, duration_minutes, participants, employee_id,
               standard_cost_eur, rate_id, rate_source, billed_amount_eur, transfer_kind,
               value_transfer_eur, count(*) over () as total_rows
        from customer_cockpit
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
            f"select count(*) from customer_cockpit where {' and '.join(clauses)}", params
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
        f"""
        select {PERIOD_COLUMNS}, cv.revenue_eur, cv.value_transfer_eur,
               cv.segment, migration.previous_segment
        from customer_value as cv
        left join segment_migration as migration
            on migration.customer_id = cv.customer_id
            and migration.period_start = cv.period_start
        where cv.customer_id = ?
        order by cv.period_start
        """,
        [customer_id],
    ).fetchall()
    return [HistoryRow(Period(*r[:4]), *r[4:]) for r in rows]


# --------------------------------------------------------------------------- migration


def migration_matrix(con, source: Period, target: Period) -> dict[tuple, int]:
    """Customers per (segment in ``source``, segment in ``target``); None = no row there."""
    rows = con.execute(
        """
        with source as (
            select customer_id, segment from customer_value where period_start = ?
        ),
        target as (
            select customer_id, segment from customer_value where period_start = ?
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
            select customer_id, segment from customer_value where period_start = ?
        ),
        target as (
            select customer_id, segment, revenue_eur, value_transfer_eur
            from customer_value where period_start = ?
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
        left join dim_customers as customers on customers.customer_id = cell.customer_id
        order by cell.revenue_eur desc nulls last, cell.customer_id
        limit ?
        """,
        [source.start, target.start, source_segment, target_segment, limit],
    ).fetchall()


