"""Hand-made faulty rows, one row-level fault each, for `with_errors`.

A handful of rows per file, written after the generated ones. Each row breaks exactly one
rule, so the reason the ingest gives it is unambiguous. Rows are written by column name, in
the columns of the extract's spec (a column the row does not name stays empty). A raw byte
that is no UTF-8 is written as its surrogate escape ('\\udce4' is the byte 0xE4).

Besides the value rules, the deltas show the rules of the record as read and of time:
a record over the size limit (`record_too_long`), a cp1252 byte in a UTF-8 file
(`invalid_encoding`, the UTF-8 dialect only), an order dated after its extract and an
`updated_at` in the hour the source time zone repeats in autumn (both `invalid_date`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from orchestration import settings
from orchestration.lib.ingest.spec import MAX_RECORD_BYTES, SPECS
from orchestration.lib.sample.csvout import (
    Dialect,
    py_date,
    py_day,
    py_integer,
    py_money,
    py_timestamp,
)
from orchestration.lib.sample.reference import EPOCH


def _in_spec_order(entity: str, row: dict[str, str], changes: dict[str, str]) -> list[str]:
    """The row with `changes` applied, as a record of the extract (unnamed columns empty)."""
    row = {**row, **changes}
    return [row.get(column, "") for column in SPECS[entity].column_names]


@dataclass
class FaultContext:
    dialect: Dialect
    day: int  # the business day the rows belong to
    seconds: int  # an updated_at on that day
    known_customer: str  # a customer id present in every snapshot
    unknown_customer: str  # a customer id present in no snapshot
    fresh_customer: Callable[[], str]
    next_order: Callable[[], str]
    next_activity: Callable[[], str]


def _bad_date(dialect: Dialect) -> str:
    return "30.02.2026" if dialect.name == "german" else "2026-02-30"


FAR_FUTURE = dt.date(2999, 6, 1)  # a typing error that would become "the latest period"


def repeated_local_time(year: int) -> dt.datetime | None:
    """A local time that happens twice in the source time zone in `year` (half an hour into
    the hour repeated when the clocks go back), None for a zone without such an hour."""
    zone = ZoneInfo(settings.source_timezone())
    instant = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    offset = instant.astimezone(zone).utcoffset()
    while instant.year == year:
        later = instant + dt.timedelta(hours=1)
        new_offset = later.astimezone(zone).utcoffset()
        if new_offset < offset:  # the clocks went back at `later`
            local = later.astimezone(zone).replace(tzinfo=None)
            return local + dt.timedelta(minutes=30)
        instant, offset = later, new_offset
    return None


def _seconds(moment: dt.datetime) -> int:
    """Seconds since EPOCH, as py_timestamp takes them."""
    return int((moment - dt.datetime.combine(EPOCH, dt.time())).total_seconds())


def customer_row(ctx: FaultContext, customer_id: str, **changes: str) -> list[str]:
    d = ctx.dialect
    row = {
        "customer_id": customer_id, "customer_name": "Neukunde Weiß & Söhne, Gießerei",
        "industry": "Gießerei", "region": "Süd", "account_manager": "Jürgen Weiß",
        "country_code": "DE", "customer_since": py_date(ctx.day - 20, d),
        "annual_potential_eur": py_money(250_000_00, d), "status": "prospect",
        "updated_at": py_timestamp(ctx.seconds, d),
    }
    return _in_spec_order("customers", row, changes)


def order_row(ctx: FaultContext, order_id: str, **changes: str) -> list[str]:
    d = ctx.dialect
    row = {
        "order_id": order_id, "line_no": "1", "customer_id": ctx.known_customer,
        "order_date": py_date(ctx.day, d), "product_group": "Ersatzteile",
        "net_revenue_eur": py_money(1_234_50, d), "cost_of_goods_eur": py_money(812_00, d),
        "updated_at": py_timestamp(ctx.seconds, d),
    }
    return _in_spec_order("orders", row, changes)


def activity_row(ctx: FaultContext, activity_id: str, **changes: str) -> list[str]:
    d = ctx.dialect
    row = {
        "activity_id": activity_id, "customer_id": ctx.known_customer,
        "service_type_code": "HOTLINE", "activity_date": py_date(ctx.day, d),
        "duration_minutes": py_integer(15, d), "participants": "1", "employee_id": "E0101",
        "department": "Anwendungstechnik", "channel": "phone",
        "billed_amount_eur": py_money(0, d), "description": "Rückfrage zur Störung, gelöst",
        "status": "done", "updated_at": py_timestamp(ctx.seconds, d),
    }
    return _in_spec_order("service_activities", row, changes)


def customer_faults(ctx: FaultContext) -> list[list[str]]:
    d = ctx.dialect
    duplicate = ctx.fresh_customer()
    stray = []
    if d.name == "utf8":  # an 'ä' written in cp1252: the byte 0xE4, no UTF-8
        stray = [customer_row(ctx, ctx.fresh_customer(),
                              customer_name="Neukunde M\udce4ller GmbH")]
    return stray + [
        customer_row(ctx, ctx.fresh_customer(), customer_name=""),
        customer_row(ctx, ctx.fresh_customer(), annual_potential_eur="ca. 250000"),
        customer_row(ctx, ctx.fresh_customer(), customer_since=_bad_date(d)),
        customer_row(ctx, ctx.fresh_customer(), status="maybe"),
        customer_row(ctx, ctx.fresh_customer(), country_code="Deutschland"),
        customer_row(ctx, ctx.fresh_customer(), annual_potential_eur=py_money(-50_000_00, d)),
        customer_row(ctx, duplicate),
        customer_row(ctx, duplicate, customer_name="Neukunde Groß GmbH"),
    ]


def order_faults(ctx: FaultContext) -> list[list[str]]:
    d = ctx.dialect
    duplicate = ctx.next_order()
    return [
        order_row(ctx, ctx.next_order(), order_date=""),
        order_row(ctx, ctx.next_order(), customer_id=""),
        order_row(ctx, ctx.next_order(), net_revenue_eur="12x" + d.decimal + "50"),
        order_row(ctx, ctx.next_order(), line_no="eins"),
        order_row(ctx, ctx.next_order(), order_date=_bad_date(d)),
        order_row(ctx, ctx.next_order(), order_date=py_date(py_day(FAR_FUTURE), d)),
        order_row(ctx, duplicate),
        order_row(ctx, duplicate, net_revenue_eur=py_money(2_468_00, d)),
        order_row(ctx, ctx.next_order(), customer_id=ctx.unknown_customer),
    ]


def activity_faults(ctx: FaultContext) -> list[list[str]]:
    d = ctx.dialect
    duplicate = ctx.next_activity()
    repeated = repeated_local_time((EPOCH + dt.timedelta(days=ctx.day)).year)
    ambiguous = [] if repeated is None else [
        activity_row(ctx, ctx.next_activity(), updated_at=py_timestamp(_seconds(repeated), d))]
    return ambiguous + [
        activity_row(ctx, ctx.next_activity(), service_type_code=""),
        activity_row(ctx, ctx.next_activity(),
                     description="Messprotokoll: " + "0" * MAX_RECORD_BYTES),
        activity_row(ctx, ctx.next_activity(), duration_minutes="1h30"),
        activity_row(ctx, ctx.next_activity(), activity_date=_bad_date(d)),
        activity_row(ctx, ctx.next_activity(), status="maybe"),
        activity_row(ctx, ctx.next_activity(), duration_minutes=py_integer(-30, d)),
        activity_row(ctx, ctx.next_activity(), billed_amount_eur=py_money(-1_000, d)),
        activity_row(ctx, ctx.next_activity(), service_type_code="COFFEE_BREAK"),
        activity_row(ctx, duplicate),
        activity_row(ctx, duplicate, duration_minutes=py_integer(25, d),
                     description="Rückfrage zur Störung, nicht gelöst"),
        activity_row(ctx, ctx.next_activity(), customer_id=ctx.unknown_customer),
    ]


def initial_faults(ctx: FaultContext) -> dict[str, list[list[str]]]:
    """A few faults in the initial history delivery."""
    d = ctx.dialect
    return {
        "customers": [customer_row(ctx, ctx.fresh_customer(), country_code="Deutschland")],
        "orders": [order_row(ctx, ctx.next_order(), order_date=_bad_date(d))],
        "service_activities": [
            activity_row(ctx, ctx.next_activity(), customer_id=""),
            activity_row(ctx, ctx.next_activity(), duration_minutes=py_integer(-15, d)),
            activity_row(ctx, ctx.next_activity(), service_type_code="KAFFEEPAUSE"),
        ],
    }
