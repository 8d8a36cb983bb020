"""What the value statement reads: the customer's name and the value-transfer ledger.

The statement reads the ledger (`marts.fct_value_transfers`): exactly the free and discounted
services, so the rule of what counts lives in the marts alone. It never reads the internal
figures of `marts.customer_value`, only the periods' bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from orchestration.lib.reports.periods import PERIOD_COLUMNS, Period
from orchestration.lib.sql import records


def customer_name(con, customer_id: str) -> str | None:
    """The customer's name alone (what a customer-facing document may show), or None when the
    warehouse does not know the customer."""
    row = con.execute(
        "select customer_name from marts.dim_customers where customer_id = ?", [customer_id]
    ).fetchone()
    return row[0] if row else None

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
    return records(
        con, GivenTotals,
        """
        select service_type_code, count(*), sum(duration_minutes), sum(participants),
               sum(standard_cost_eur), sum(billed_amount_eur), sum(value_transfer_eur)
        from marts.fct_value_transfers
        where customer_id = ? and activity_date between ? and ?
        group by grouping sets ((service_type_code), ())
        order by service_type_code is null, sum(value_transfer_eur) desc, service_type_code
        """,
        [customer_id, start, end],
    )

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
    return records(
        con, GivenService,
        """
        select activity_date, service_type_code, description, duration_minutes, participants,
               standard_cost_eur, billed_amount_eur, value_transfer_eur
        from marts.fct_value_transfers
        where customer_id = ? and activity_date between ? and ?
        order by value_transfer_eur desc, activity_date, activity_id
        limit ?
        """,
        [customer_id, start, end, limit],
    )

def given_by_period(con, customer_id: str, up_to: date) -> list[tuple[Period, int, float, float]]:
    """For every period of the marts that ends by ``up_to`` and after the customer's start:
    (period, services, minutes, value given) of its free and discounted services; zeros
    where there were none."""
    rows = con.execute(
        f"""
        with calendar as (
            select distinct {PERIOD_COLUMNS} from marts.customer_value as cv
            where cv.period_end <= ?
              and cv.period_end >= coalesce((select customer_since from marts.dim_customers
                                          where customer_id = ?), date '1900-01-01')
        ),
        given as (
            select period_start, count(*) as activities, sum(duration_minutes) as minutes,
                   sum(value_transfer_eur) as value_given_eur
            from marts.fct_value_transfers
            where customer_id = ? and activity_date <= ?
            group by period_start
        )
        select calendar.period_start, calendar.period_end, calendar.data_through,
               calendar.is_period_complete, coalesce(given.activities, 0),
               coalesce(given.minutes, 0), coalesce(given.value_given_eur, 0)
        from calendar
        left join given on given.period_start = calendar.period_start
        order by calendar.period_start
        """,
        [up_to, customer_id, customer_id, up_to],
    ).fetchall()
    return [(Period(*r[:4]), *r[4:]) for r in rows]
