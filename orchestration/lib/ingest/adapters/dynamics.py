"""Microsoft Dynamics 365 / Dataverse: `account` -> customers; `activitypointer` (every
activity: phone calls, appointments, tasks, ...) -> service activities; `invoicedetail` with
its `invoice` (and the invoice's `transactioncurrency`) -> orders. Files named by the tables'
logical names, fields by their logical names, as a Dataverse export or a connector writes them.

Option sets come as their values: `statecode` of an account 0 active, 1 inactive; of an
activity 0 open, 1 completed, 2 canceled; of an invoice 0 active, 1 closed, 2 paid, 3 canceled.
The change stamp is `modifiedon`; a record a connector marks deleted (`_fivetran_deleted` true)
is a deletion.
"""

from __future__ import annotations

from decimal import Decimal

from orchestration.lib.ingest.adapters.base import (
    Context,
    NativeRow,
    Translated,
    latest,
    number,
    set_line_amounts,
    stamp,
    unmapped,
)
from orchestration.lib.ingest.spec import MISSING_REQUIRED_FIELD

SYSTEM = "dynamics"
FACT_FILES = {
    "account.csv": "customers",
    "invoicedetail.csv": "orders",
    "activitypointer.csv": "service_activities",
}
HEADER_FILES = {"invoicedetail.csv": ("invoice.csv", "transactioncurrency.csv")}
REQUIRED = {  # the fields without which a file cannot be translated
    "account.csv": ("accountid", "name"),
    "activitypointer.csv": ("activityid", "activitytypecode"),
    "invoicedetail.csv": ("invoicedetailid", "invoiceid"),
    "invoice.csv": ("invoiceid", "customerid", "statecode"),
    "transactioncurrency.csv": ("transactioncurrencyid", "isocurrencycode"),
}
CANCELED_ACTIVITY, INACTIVE_ACCOUNT, CANCELED_INVOICE = "2", "1", "3"


def translate(name: str, rows: list[NativeRow], ctx: Context) -> Translated:
    if name == "account.csv":
        return _accounts(rows, ctx)
    if name == "invoicedetail.csv":
        return _invoice_lines(rows, ctx)
    return _activities(rows, ctx)



def _deleted(row: NativeRow) -> bool:
    return row.flag("_fivetran_deleted")


def _accounts(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("customers")
    industries = {str(k): str(v) for k, v in (ctx.mapping.get("industry_codes") or {}).items()}
    for row in rows:
        country = row.get("address1_country")
        owner = row.get("ownerid")
        out.add(row, {
            "customer_id": ctx.seeds.customer_id(SYSTEM, row.get("accountid")),
            "customer_name": row.get("name"),
            "industry": industries.get(row.get("industrycode"), row.get("industrycode")),
            "region": row.get("address1_stateorprovince"),
            "account_manager": ctx.mapping.owner(owner)[0] if owner else "",
            "country_code": country if len(country) == 2 else "",
            "customer_since": ctx.local_date(stamp(row.get("createdon"))),
            "status": "inactive" if _deleted(row) or row.get("statecode") == INACTIVE_ACCOUNT
            else "active",
            "updated_at": stamp(row.get("modifiedon")),
        })
    return out


def _activities(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("service_activities")
    for row in rows:
        kind = row.get("activitytypecode")
        regarding = row.get("regardingobjectid") if row.get(
            "regardingobjecttypecode").lower() in ("", "account") else ""
        owner = row.get("ownerid")
        employee, department = ctx.mapping.owner(owner) if owner else ("", "")
        values = {
            "activity_id": row.get("activityid"),
            "customer_id": ctx.seeds.customer_id(SYSTEM, regarding),
            "activity_date": ctx.local_date(stamp(row.get("actualend") or row.get("actualstart")
                                                  or row.get("scheduledstart"))),
            "duration_minutes": _minutes(row),
            "employee_id": employee,
            "department": department,
            "channel": kind,
            "description": row.get("subject"),
            "status": "cancelled" if _deleted(row) or row.get("statecode") == CANCELED_ACTIVITY
            else "done",
            "updated_at": stamp(row.get("modifiedon")),
        }
        code = ctx.mapping.service_type(kind, row)
        if code is None and not row.problem:
            out.reject(row, *unmapped(ctx.mapping.unmapped(kind, row, ("subject",))), values)
            continue
        values["service_type_code"] = code or ""
        out.add(row, values)
    return out


def _minutes(row: NativeRow) -> str:
    """`actualdurationminutes`; else the scheduled span (`scheduleddurationminutes`)."""
    return row.get("actualdurationminutes") or row.get("scheduleddurationminutes")


def _invoice_lines(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("orders")
    invoices = ctx.headers("invoice.csv", "invoiceid")
    currencies = ctx.headers("transactioncurrency.csv", "transactioncurrencyid")
    for row in rows:
        invoice = invoices.get(row.get("invoiceid"))
        if invoice is None:
            if row.problem:
                out.add(row, {})
            else:
                out.reject(row, MISSING_REQUIRED_FIELD,
                           f"invoiceid '{row.get('invoiceid')}': no invoice of any delivery "
                           "has that Id")
            continue
        currency_row = currencies.get(invoice.get("transactioncurrencyid"))
        currency = currency_row.get("isocurrencycode") if currency_row else \
            (ctx.mapping.get("currency") or "EUR")
        values = {
            "order_id": invoice.get("invoicenumber") or invoice.get("invoiceid"),
            "line_no": row.get("lineitemnumber") or row.get("sequencenumber"),
            "customer_id": ctx.seeds.customer_id(SYSTEM, invoice.get("customerid")),
            "order_date": ctx.local_date(stamp(invoice.get("datedelivered")
                                               or invoice.get("createdon"))),
            "product_group": row.get("productid"),
            "updated_at": latest(stamp(row.get("modifiedon")), stamp(invoice.get("modifiedon"))),
        }
        live = not (_deleted(row) or _deleted(invoice)) and \
            invoice.get("statecode") != CANCELED_INVOICE
        amount = _line_amount(row)
        if set_line_amounts(out, row, values, ctx, live=live, amount=amount,
                            as_given=row.get("baseamount") or row.get("priceperunit"),
                            currency=currency):
            out.add(row, values)
    return out


def _line_amount(row: NativeRow) -> Decimal | None:
    """The line's net amount: `baseamount` (price x quantity, before discount) less
    `manualdiscountamount`; else `priceperunit` x `quantity`."""
    if row.get("baseamount"):
        base = number(row.get("baseamount"))
        discount = number(row.get("manualdiscountamount") or "0")
        return None if base is None or discount is None else base - discount
    quantity, price = number(row.get("quantity")), number(row.get("priceperunit"))
    return None if quantity is None or price is None else quantity * price
