"""SAP billing (SD): `KNA1` (customer master) -> customers; `VBRP` (billing items) with their
`VBRK` (billing headers) -> orders. Files named by the table, fields by their technical
names, as a standard table extract writes them (dates YYYYMMDD, '00000000' for none; times
HHMMSS; a sign may trail the number).

A billing document is an order: `VBELN` its id, `POSNR` the line. Amounts are the item's
`NETWR` (net value) and `WAVWR` (cost) in the header's document currency `WAERK`, dated
`FKDAT`. A cancelled document (`FKSTO` set) and the lines of its cancellation document
(whose `SFAKN` names the cancelled one) re-deliver the cancelled document's lines at 0; a
document of a credit category (`VBTYP`, by default O: credit memo) counts negative. The
change stamp is the later of creation (`ERDAT` `ERZET`) and change (`AEDAT`).
"""

from __future__ import annotations

import re

from orchestration.lib.ingest.adapters.base import (
    Context,
    NativeRow,
    Translated,
    as_date,
    decimal_text,
    number,
)
from orchestration.lib.ingest.spec import MISSING_REQUIRED_FIELD

SYSTEM = "sap"
FACT_FILES = {"KNA1.csv": "customers", "VBRP.csv": "orders"}
HEADER_FILES = {"VBRP.csv": ("VBRK.csv",)}
REQUIRED = {  # the fields without which a file cannot be translated
    "KNA1.csv": ("KUNNR", "NAME1"),
    "VBRP.csv": ("VBELN", "POSNR", "NETWR"),
    "VBRK.csv": ("VBELN", "KUNAG", "FKDAT", "WAERK"),
}

_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DOTTED = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


def sap_date(text: str) -> str:
    """'20261120' or '20.11.2026' -> '2026-11-20'; '00000000' -> ''; anything else as it is
    (the rules reject what is no date)."""
    if text.strip("0") == "" and text:
        return ""
    if found := _COMPACT.match(text):
        return "-".join(found.groups())
    if found := _DOTTED.match(text):
        day, month, year = found.groups()
        return f"{year}-{month}-{day}"
    return text


def sap_time(text: str) -> str:
    """'101500' or '10:15:00' -> '10:15:00'; '' -> '00:00:00'."""
    digits = text.replace(":", "")
    if len(digits) == 6 and digits.isdigit():
        return f"{digits[:2]}:{digits[2:4]}:{digits[4:]}"
    return "00:00:00"


def changed(header: NativeRow) -> str:
    """The header's change stamp, local time: the later of ERDAT ERZET and AEDAT."""
    created = sap_date(header.get("ERDAT"))
    stamps = [f"{created}T{sap_time(header.get('ERZET'))}"] if as_date(created) else []
    change = sap_date(header.get("AEDAT"))
    if as_date(change):
        stamps.append(f"{change}T00:00:00")
    return max(stamps, default="")


def translate(name: str, rows: list[NativeRow], ctx: Context) -> Translated:
    if name == "KNA1.csv":
        return _customers(rows, ctx)
    return _items(rows, ctx)



def _customers(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("customers")
    industries = {str(k): str(v) for k, v in (ctx.mapping.get("industry_keys") or {}).items()}
    for row in rows:
        out.add(row, {
            "customer_id": ctx.seeds.customer_id(SYSTEM, row.get("KUNNR")),
            "customer_name": " ".join(filter(None, (row.get("NAME1"), row.get("NAME2")))),
            "industry": industries.get(row.get("BRSCH"), row.get("BRSCH")),
            "region": row.get("REGIO"),
            "country_code": row.get("LAND1"),
            "customer_since": sap_date(row.get("ERDAT")),
            "status": "inactive" if row.flag("LOEVM") else "active",
        })
    return out


def _items(rows: list[NativeRow], ctx: Context) -> Translated:
    out = Translated("orders")
    headers = ctx.headers("VBRK.csv", "VBELN")
    comma = ctx.mapping.get("decimal_mark", ".") == ","
    credits = {str(c).upper() for c in ctx.mapping.get("credit_document_categories", ["O"])}
    for row in rows:
        header = headers.get(row.get("VBELN"))
        if header is None:
            if row.problem:
                out.add(row, {})
            else:
                out.reject(row, MISSING_REQUIRED_FIELD,
                           f"VBELN '{row.get('VBELN')}': no VBRK of any delivery holds that "
                           "billing document")
            continue
        cancelled_doc = header.get("SFAKN")
        billed = sap_date(header.get("FKDAT"))
        if cancelled_doc:
            # a cancellation document: the cancelled document's line, at 0, on its date
            original = headers.get(cancelled_doc)
            order_id = cancelled_doc
            billed = sap_date(original.get("FKDAT")) if original is not None else billed
        else:
            order_id = row.get("VBELN")
        values = {
            "order_id": order_id,
            "line_no": row.get("POSNR").lstrip("0") or row.get("POSNR"),
            "customer_id": ctx.seeds.customer_id(SYSTEM, header.get("KUNAG")),
            "order_date": billed,
            "product_group": row.get("MATKL"),
            "updated_at": changed(header),
        }
        if cancelled_doc or header.flag("FKSTO"):
            values["net_revenue_eur"], values["cost_of_goods_eur"] = "0.00", "0.00"
            out.add(row, values)
            continue
        sign = -1 if header.get("VBTYP").upper() in credits else 1
        revenue, cost = number(row.get("NETWR"), comma), number(row.get("WAVWR"), comma)
        currency = header.get("WAERK") or row.get("WAERK") or "EUR"
        day = as_date(billed)
        if revenue is None or day is None:
            # the rules reject it: a net value that is no number, a date that is no date
            values["net_revenue_eur"] = row.get("NETWR") if revenue is None else \
                decimal_text(revenue)
            out.add(row, values)
            continue
        eur = ctx.seeds.to_eur(sign * revenue, currency, day)
        if eur is None and not row.problem:
            out.reject(row, *ctx.seeds.no_rate(currency, day), values)
            continue
        values["net_revenue_eur"] = decimal_text(eur) if eur is not None else ""
        if row.get("WAVWR"):
            values["cost_of_goods_eur"] = row.get("WAVWR") if cost is None else \
                decimal_text(ctx.seeds.to_eur(sign * cost, currency, day))
        out.add(row, values)
    return out
