"""HubSpot: `company` -> customers; `engagement` (calls, meetings, tasks) with its company
association and its call, meeting or task record -> service activities; `line_item` of a
closed-won `deal` -> orders. Files named by the tables a HubSpot connector lands (Fivetran's
names), fields by their names there (`property_<name>` for a HubSpot property).

A call's duration is in milliseconds (`property_hs_call_duration`), a meeting's is its end
minus its start; a task has none (`fixed_minutes` may give one per type). Timestamps come as
ISO text or as milliseconds since 1970 (UTC). A deleted record (`is_deleted` true, an
engagement no longer `active`) is a deletion: an activity becomes cancelled, a company
inactive, a line item worth nothing. HubSpot's line items have no line number: a line item is
an order line of its own (`order_id` = `<deal id>-<line item id>`, `line_no` 1).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orchestration.lib.ingest.adapters.base import (
    Context,
    NativeRow,
    Translated,
    decimal_text,
    instant,
    latest,
    number,
    set_line_amounts,
    stamp,
    unmapped,
)
from orchestration.lib.ingest.spec import MISSING_REQUIRED_FIELD

SYSTEM = "hubspot"
FACT_FILES = {
    "company.csv": "customers",
    "line_item.csv": "orders",
    "engagement.csv": "service_activities",
}
DETAILS = {"CALL": "engagement_call.csv", "MEETING": "engagement_meeting.csv",
           "TASK": "engagement_task.csv"}
HEADER_FILES = {
    "engagement.csv": ("engagement_company.csv", *DETAILS.values()),
    "line_item.csv": ("line_item_deal.csv", "deal.csv", "deal_company.csv"),
}
REQUIRED = {  # the fields without which a file cannot be translated
    "company.csv": ("id", "property_name"),
    "engagement.csv": ("id", "type"),
    "line_item.csv": ("id",),
    "engagement_company.csv": ("engagement_id", "company_id"),
    "line_item_deal.csv": ("line_item_id", "deal_id"),
    "deal.csv": ("deal_id", "deal_pipeline_stage_id", "property_closedate"),
    "deal_company.csv": ("deal_id", "company_id"),
}


def hubspot_stamp(text: str) -> str:
    """Milliseconds since 1970 (UTC) as an instant; other text as base.stamp gives it."""
    if text.isdigit() and len(text) >= 11:
        moment = dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
        return moment.isoformat(timespec="seconds")
    return stamp(text)


def translate(name: str, rows: list[NativeRow], ctx: Context) -> Translated:
    if name == "company.csv":
        return _companies(rows, ctx)
    if name == "line_item.csv":
        return _line_items(rows, ctx)
    return _engagements(rows, ctx)



def _deleted(row: NativeRow) -> bool:
    return row.flag("is_deleted") or row.flag("property_hs_is_deleted")


def _companies(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("customers")
    statuses = {str(k).lower(): str(v) for k, v in
                (ctx.mapping.get("company_status") or {}).items()}
    for row in rows:
        country = row.get("property_country")
        owner = row.get("property_hubspot_owner_id")
        out.add(row, {
            "customer_id": ctx.seeds.customer_id(SYSTEM, row.get("id")),
            "customer_name": row.get("property_name"),
            "industry": row.get("property_industry"),
            "region": row.get("property_state"),
            "account_manager": ctx.mapping.owner(owner)[0] if owner else "",
            # HubSpot's country is free text: only a two-letter code is taken
            "country_code": country if len(country) == 2 else "",
            "customer_since": ctx.local_date(hubspot_stamp(row.get("property_createdate"))),
            "status": "inactive" if _deleted(row)
            else statuses.get(row.get("property_lifecyclestage").lower(), "active"),
            "updated_at": hubspot_stamp(row.get("property_hs_lastmodifieddate")),
        })
    return out


def _engagements(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("service_activities")
    companies = ctx.headers("engagement_company.csv", "engagement_id")
    details = {kind: ctx.headers(name, "engagement_id") for kind, name in DETAILS.items()}
    fixed = {str(k).upper(): v for k, v in (ctx.mapping.get("fixed_minutes") or {}).items()}
    for row in rows:
        kind = row.get("type").upper()
        detail = details.get(kind, {}).get(row.get("id"))
        # the rules see the engagement's fields and those of its call, meeting or task
        merged = NativeRow({**(detail.fields if detail else {}), **row.fields}, row.line,
                           row.problem, row.problem_detail)
        association = companies.get(row.get("id"))
        owner = row.get("owner_id") or merged.get("property_hubspot_owner_id")
        employee, department = ctx.mapping.owner(owner) if owner else ("", "")
        values = {
            "activity_id": row.get("id"),
            "customer_id": ctx.seeds.customer_id(
                SYSTEM, association.get("company_id") if association else ""),
            "activity_date": ctx.local_date(hubspot_stamp(
                row.get("timestamp") or merged.get("property_hs_timestamp"))),
            "duration_minutes": _minutes(kind, merged, fixed),
            "employee_id": employee,
            "department": department,
            "channel": kind.lower(),
            "description": merged.get("property_hs_call_title")
            or merged.get("property_hs_meeting_title") or merged.get("property_hs_task_subject"),
            "status": "cancelled" if _deleted(row) or row.get("active").lower() == "false"
            else "done",
            "updated_at": hubspot_stamp(row.get("last_updated")),
        }
        code = ctx.mapping.service_type(kind, merged)
        if code is None and not row.problem:
            out.reject(row, *unmapped(ctx.mapping.unmapped(kind, merged, ("type",))), values)
            continue
        values["service_type_code"] = code or ""
        out.add(row, values)
    return out


def _minutes(kind: str, row: NativeRow, fixed: dict) -> str:
    """A call's milliseconds / 60,000; a meeting's end - start; else `fixed_minutes` of the
    type. Text that is no number is passed on for the rules to reject."""
    millis = row.get("property_hs_call_duration") or row.get("duration_milliseconds")
    if kind == "CALL" and millis:
        value = number(millis)
        return millis if value is None else decimal_text(value / 60000)
    start = row.get("property_hs_meeting_start_time")
    end = row.get("property_hs_meeting_end_time")
    if kind == "MEETING" and start and end:
        first, last = instant(hubspot_stamp(start)), instant(hubspot_stamp(end))
        if first is None or last is None:
            return end
        return decimal_text(Decimal((last - first).total_seconds()) / 60)
    return str(fixed[kind]) if kind in fixed else ""


def _line_items(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("orders")
    links = ctx.headers("line_item_deal.csv", "line_item_id")
    deals = ctx.headers("deal.csv", "deal_id")
    companies = ctx.headers("deal_company.csv", "deal_id")
    won = {str(s).lower() for s in ctx.mapping.get("won_stages", ["closedwon"])}
    for row in rows:
        link = links.get(row.get("id"))
        deal = deals.get(link.get("deal_id")) if link else None
        if deal is None:
            if row.problem:
                out.add(row, {})
            else:
                out.reject(row, MISSING_REQUIRED_FIELD,
                           f"line item '{row.get('id')}': no deal of any delivery has it")
            continue
        company = companies.get(deal.get("deal_id"))
        values = {
            "order_id": f"{deal.get('deal_id')}-{row.get('id')}",
            "line_no": "1",
            "customer_id": ctx.seeds.customer_id(
                SYSTEM, company.get("company_id") if company else ""),
            "order_date": ctx.local_date(hubspot_stamp(deal.get("property_closedate"))),
            "product_group": row.get("property_hs_product_id"),
            "updated_at": latest(hubspot_stamp(row.get("property_hs_lastmodifieddate")),
                                 hubspot_stamp(deal.get("property_hs_lastmodifieddate"))),
        }
        live = not (_deleted(row) or _deleted(deal)) and \
            deal.get("deal_pipeline_stage_id").lower() in won
        quantity = number(row.get("property_quantity") or "1")
        amount = number(row.get("property_amount")) if row.get("property_amount") else (
            None if quantity is None or number(row.get("property_price")) is None
            else quantity * number(row.get("property_price")))
        unit_cost = number(row.get("property_hs_cost_of_goods_sold") or "")
        currency = deal.get("property_deal_currency_code") or \
            ctx.mapping.get("currency") or "EUR"
        cost = None if unit_cost is None or quantity is None else unit_cost * quantity
        if set_line_amounts(out, row, values, ctx, live=live, amount=amount,
                            as_given=row.get("property_amount") or row.get("property_price"),
                            currency=currency, cost=cost):
            out.add(row, values)
    return out
