"""Salesforce: `Account` -> customers; `Task` and `Event` -> service activities; `OrderItem`
with its `Order` -> orders. Files named by the object's API name, fields by their API names,
as a Bulk API or Data Loader export (or a connector) writes them.

The change stamp of a record is the later of `LastModifiedDate` and `SystemModstamp`; a
record with `IsDeleted` true is a deletion: an activity becomes cancelled, an account
inactive, an order line worth nothing.
"""

from __future__ import annotations

from decimal import Decimal

from orchestration.lib.ingest.adapters.base import (
    Context,
    NativeRow,
    Translated,
    decimal_text,
    latest,
    number,
    set_line_amounts,
    unmapped,
)
from orchestration.lib.ingest.spec import MISSING_REQUIRED_FIELD

SYSTEM = "salesforce"
# native file -> the extract its rows become; in load order (customers first)
FACT_FILES = {
    "Account.csv": "customers",
    "OrderItem.csv": "orders",
    "Task.csv": "service_activities",
    "Event.csv": "service_activities",
}
HEADER_FILES = {"OrderItem.csv": ("Order.csv",)}
ACCOUNT_PREFIX = "001"  # the key prefix of Account ids (a WhatId that names an account)
REQUIRED = {  # the fields without which a file cannot be translated
    "Account.csv": ("Id", "Name"),
    "Task.csv": ("Id",),
    "Event.csv": ("Id",),
    "OrderItem.csv": ("Id", "OrderId", "OrderItemNumber"),
    "Order.csv": ("Id", "AccountId", "EffectiveDate", "Status"),
}


def changed(row: NativeRow) -> str:
    return latest(row.get("LastModifiedDate"), row.get("SystemModstamp"))


def translate(name: str, rows: list[NativeRow], ctx: Context) -> Translated:
    if name == "Account.csv":
        return _accounts(rows, ctx)
    if name == "OrderItem.csv":
        return _order_items(rows, ctx)
    return _activities(name.removesuffix(".csv"), rows, ctx)



def _accounts(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("customers")
    statuses = {str(k).lower(): str(v) for k, v in
                (ctx.mapping.get("account_status") or {}).items()}
    since_field = ctx.mapping.get("customer_since_field") or "CreatedDate"
    potential_field = ctx.mapping.get("potential_field")
    for row in rows:
        values = {
            "customer_id": ctx.seeds.customer_id(SYSTEM, row.get("Id")),
            "customer_name": row.get("Name"),
            "industry": row.get("Industry"),
            "region": row.get("BillingState"),
            "account_manager": ctx.mapping.owner(row.get("OwnerId"))[0]
            if row.get("OwnerId") else "",
            "country_code": row.get("BillingCountryCode") or row.get("BillingCountry"),
            "customer_since": ctx.local_date(row.get(since_field)),
            "status": "inactive" if row.flag("IsDeleted")
            else statuses.get(row.get("Type").lower(), "active"),
            "updated_at": changed(row),
        }
        if potential_field and row.get(potential_field) and not row.problem:
            amount = number(row.get(potential_field))
            currency = row.get("CurrencyIsoCode") or ctx.mapping.get("currency") or "EUR"
            if amount is None:
                values["annual_potential_eur"] = row.get(potential_field)
            else:
                eur = ctx.seeds.to_eur(amount, currency, ctx.extract_date)
                if eur is None:
                    out.reject(row, *ctx.seeds.no_rate(currency, ctx.extract_date), values)
                    continue
                values["annual_potential_eur"] = decimal_text(eur)
        out.add(row, values)
    return out


def _activities(object_name: str, rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("service_activities")
    for row in rows:
        account = row.get("AccountId")
        if not account and row.get("WhatId").startswith(ACCOUNT_PREFIX):
            account = row.get("WhatId")
        employee, department = ctx.mapping.owner(row.get("OwnerId")) \
            if row.get("OwnerId") else ("", "")
        values = {
            "activity_id": row.get("Id"),
            "customer_id": ctx.seeds.customer_id(SYSTEM, account),
            "activity_date": _activity_date(object_name, row, ctx),
            "duration_minutes": _minutes(object_name, row),
            "employee_id": employee,
            "department": department,
            "channel": row.get("Type"),
            "description": row.get("Subject"),
            "status": "cancelled" if row.flag("IsDeleted") else "done",
            "updated_at": changed(row),
        }
        code = ctx.mapping.service_type(object_name, row)
        if code is None and not row.problem:
            out.reject(row, *unmapped(ctx.mapping.unmapped(object_name, row,
                                                           ("Type", "Subject"))), values)
            continue
        values["service_type_code"] = code or ""
        out.add(row, values)
    return out


def _activity_date(object_name: str, row: NativeRow, ctx: Context) -> str:
    if row.get("ActivityDate"):
        return ctx.local_date(row.get("ActivityDate"))
    other = "StartDateTime" if object_name == "Event" else "CompletedDateTime"
    return ctx.local_date(row.get(other))


def _minutes(object_name: str, row: NativeRow) -> str:
    """Minutes: `DurationInMinutes`; else an event's span from `StartDateTime` to
    `EndDateTime`, a task's call time `CallDurationInSeconds` / 60. Text that is no number is
    passed on for the rules to reject."""
    if row.get("DurationInMinutes"):
        return row.get("DurationInMinutes")
    if object_name == "Event" and row.get("StartDateTime") and row.get("EndDateTime"):
        from orchestration.lib.ingest.adapters.base import instant

        start, end = instant(row.get("StartDateTime")), instant(row.get("EndDateTime"))
        if start is None or end is None:
            return row.get("EndDateTime")
        return decimal_text(Decimal((end - start).total_seconds()) / 60)
    seconds = row.get("CallDurationInSeconds")
    if seconds:
        value = number(seconds)
        return seconds if value is None else decimal_text(value / 60)
    return ""


def _order_items(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("orders")
    orders = ctx.headers("Order.csv", "Id")
    invoiced = {str(s).lower() for s in ctx.mapping.get("invoiced_order_status", ["Activated"])}
    groups = ctx.mapping.get("product_groups") or {}
    cost_field = ctx.mapping.get("order_item_cost_field")
    for row in rows:
        order = orders.get(row.get("OrderId"))
        if order is None:
            if row.problem:
                out.add(row, {})
            else:
                out.reject(row, MISSING_REQUIRED_FIELD,
                           f"OrderId '{row.get('OrderId')}': no Order of any delivery has "
                           "that Id")
            continue
        values = {
            "order_id": order.get("OrderNumber") or order.get("Id"),
            "line_no": row.get("OrderItemNumber").lstrip("0") or row.get("OrderItemNumber"),
            "customer_id": ctx.seeds.customer_id(SYSTEM, order.get("AccountId")),
            "order_date": order.get("EffectiveDate"),
            "product_group": str(groups.get(row.get("Product2Id"), "")),
            "updated_at": latest(changed(row), changed(order)),
        }
        live = not (row.flag("IsDeleted") or order.flag("IsDeleted")) and \
            order.get("Status").lower() in invoiced
        revenue = _line_amount(row)
        cost = number(row.get(cost_field)) if cost_field and row.get(cost_field) else None
        currency = order.get("CurrencyIsoCode") or ctx.mapping.get("currency") or "EUR"
        if set_line_amounts(out, row, values, ctx, live=live, amount=revenue,
                            as_given=row.get("TotalPrice") or row.get("UnitPrice"),
                            currency=currency, cost=cost):
            out.add(row, values)
    return out


def _line_amount(row: NativeRow) -> Decimal | None:
    """`TotalPrice`, else `Quantity` x `UnitPrice`."""
    if row.get("TotalPrice"):
        return number(row.get("TotalPrice"))
    quantity, price = number(row.get("Quantity")), number(row.get("UnitPrice"))
    return None if quantity is None or price is None else quantity * price
