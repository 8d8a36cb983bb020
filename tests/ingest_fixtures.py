"""Helpers for the ingest tests: write hand-made landing files, checksum tables."""

from __future__ import annotations

from pathlib import Path

CUSTOMERS_HEADER = (
    "customer_id,customer_name,industry,region,account_manager,country_code,"
    "customer_since,annual_potential_eur,status,updated_at"
)
ORDERS_HEADER = (
    "order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,"
    "cost_of_goods_eur,updated_at"
)
ACTIVITIES_HEADER = (
    "activity_id,customer_id,service_type_code,activity_date,duration_minutes,participants,"
    "employee_id,department,channel,billed_amount_eur,description,status,updated_at"
)


def write_file(root: Path, date: str, entity: str, content: str | bytes,
               encoding: str = "utf-8") -> Path:
    """Write <root>/<date>/<entity>.csv; text is encoded with `encoding`, lines end in \\n."""
    folder = root / date
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entity}.csv"
    data = content if isinstance(content, bytes) else content.encode(encoding)
    path.write_bytes(data)
    return path


def csv_text(header: str, *rows: str) -> str:
    return "\n".join((header, *rows)) + "\n"


def table_checksum(con, table: str) -> tuple:
    """Row count and an order-independent checksum of a table, loaded_at/resolved_at left out."""
    columns = [
        row[0] for row in con.execute(f"describe {table}").fetchall()
        if row[0] not in ("loaded_at", "resolved_at")
    ]
    cols = ", ".join(f'"{c}"' for c in columns)
    return con.execute(
        f"select count(*), coalesce(sum(hash({cols})), 0) from {table}"
    ).fetchone()


ALL_TABLES = (
    "raw.customers", "raw.orders", "raw.service_activities", "audit.load_log",
    "audit.rejected_rows", "audit.pending_orders", "audit.pending_service_activities",
)
