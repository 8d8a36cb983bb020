"""Zendesk Support: `organization` -> customers; `ticket` -> service activities, with the
time spent from the Time Tracking app's ticket field (its field id is the mapping's
`time_spent_field`; its value, seconds, is read from `ticket_field_history`, the latest one of
the ticket). Files and fields by the names a Zendesk connector lands (Fivetran's).

A deleted ticket (`status` deleted, or `_fivetran_deleted` true) is cancelled; a ticket
without time spent has 0 minutes. The change stamp is `updated_at`.
"""

from __future__ import annotations

from orchestration.lib.ingest.adapters.base import (
    Context,
    NativeRow,
    Translated,
    decimal_text,
    instant,
    number,
    stamp,
    unmapped,
)

SYSTEM = "zendesk"
FACT_FILES = {"organization.csv": "customers", "ticket.csv": "service_activities"}
HEADER_FILES = {"ticket.csv": ("ticket_field_history.csv",)}
REQUIRED = {  # the fields without which a file cannot be translated
    "organization.csv": ("id", "name"),
    "ticket.csv": ("id", "organization_id"),
    "ticket_field_history.csv": ("ticket_id", "field_name", "value"),
}


def translate(name: str, rows: list[NativeRow], ctx: Context) -> Translated:
    if name == "organization.csv":
        return _organizations(rows, ctx)
    return _tickets(rows, ctx)



def _deleted(row: NativeRow) -> bool:
    return row.flag("_fivetran_deleted") or bool(row.get("deleted_at"))


def _organizations(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("customers")
    for row in rows:
        out.add(row, {
            "customer_id": ctx.seeds.customer_id(SYSTEM, row.get("id")),
            "customer_name": row.get("name"),
            "customer_since": ctx.local_date(stamp(row.get("created_at"))),
            "status": "inactive" if _deleted(row) else "active",
            "updated_at": stamp(row.get("updated_at")),
        })
    return out


def _time_spent(ctx: Context) -> dict[str, str]:
    """Seconds spent per ticket: the latest value (by `updated`) of the configured field."""
    field = str(ctx.mapping.get("time_spent_field") or "")
    history = _history(ctx)
    latest: dict[str, tuple] = {}
    for row in history:
        if row.get("field_name") != field:
            continue
        when = instant(stamp(row.get("updated")))
        key = row.get("ticket_id")
        moment = when.timestamp() if when is not None else float("-inf")
        if key not in latest or moment >= latest[key][0]:
            latest[key] = (moment, row.get("value"))
    return {ticket: value for ticket, (_, value) in latest.items()}


def _history(ctx: Context) -> list[NativeRow]:
    """Every row of ticket_field_history in the deliveries (its rows are history: none is
    replaced by another, so all are read, not the latest per key)."""
    from orchestration.lib.ingest.adapters.base import read_native, system_folders

    rows = []
    for folder in system_folders(ctx.landing_root, SYSTEM):
        path = folder / "ticket_field_history.csv"
        if path.is_file():
            rows += [r for r in read_native(path, REQUIRED["ticket_field_history.csv"])
                     if not r.problem]
    return rows


def _tickets(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("service_activities")
    spent = _time_spent(ctx)
    for row in rows:
        assignee = row.get("assignee_id")
        employee, department = ctx.mapping.owner(assignee) if assignee else ("", "")
        seconds = spent.get(row.get("id"), "0")
        value = number(seconds)
        values = {
            "activity_id": row.get("id"),
            "customer_id": ctx.seeds.customer_id(SYSTEM, row.get("organization_id")),
            "activity_date": ctx.local_date(stamp(row.get("created_at"))),
            "duration_minutes": seconds if value is None else decimal_text(value / 60),
            "employee_id": employee,
            "department": department,
            "channel": row.get("via_channel"),
            "description": row.get("subject"),
            "status": "cancelled" if _deleted(row) or row.get("status").lower() == "deleted"
            else "done",
            "updated_at": stamp(row.get("updated_at")),
        }
        code = ctx.mapping.service_type("ticket", row)
        if code is None and not row.problem:
            out.reject(row, *unmapped(ctx.mapping.unmapped(
                "ticket", row, ("ticket_form_id", "type"))), values)
            continue
        values["service_type_code"] = code or ""
        out.add(row, values)
    return out
