# ruff: noqa: E501  (the CSV rows below are kept whole, as a delivery would have them)
"""Later nights after the three end-to-end deliveries (tests/e2e_fixtures.py), for the test
that an incremental night gives exactly what a full rebuild gives (tests/dbt/test_incremental.py).

- 2026-11-23 (D4): late records for 2025 (order O12, activity A12); a correction of O4; an
  activity A7 moved from 2026-04-02 back to 2025-12-30 (another month and another period); the
  cancellation of A9; a customers snapshot that changes C3's customer_since (2019-01-01 ->
  2025-06-01, so C3 is new in 2025) and annual_potential_eur (40,000 -> 80,000).
- D4 delivered again, corrected: O12 at a new amount, O4's correction and A12 left out (so O4
  is back to its first version and A12 is gone), the rest as before.
- 1998-07-01: history from the 1990s, one order line of C1.

Two deliveries, loaded with `period_grain: quarter`, that leave a period of the facts without
rows: after D1 alone (tests/lib/warehouse/test_spark_engine.py), or after D1 to D4 and 1998
(tests/dbt/test_incremental.py), which put nothing in that period. In D1 the third quarter of
2025 holds one order line (O3, 2025-07-01) and one activity (A2, 2025-09-15, the only activity
of September 2025), both of C3:
- 2026-11-24: A2 cancelled, every activity of September 2025 (and of the quarter) goes;
- 2026-11-25: O3 moved to 2025-10-01, the quarter's every order line into the next quarter:
  the quarter is left without any row, between periods that have rows.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_fixtures import CUSTOMERS_D3

D4, D1998 = "2026-11-23", "1998-07-01"
EMPTIED_MONTH, EMPTIED_QUARTER = "2026-11-24", "2026-11-25"

CUSTOMERS_D4 = CUSTOMERS_D3.replace(
    "C3,Gamma Mueller KG,food,West,AM01,AT,2019-01-01,40000.00,active,2026-11-19T08:00:00",
    "C3,Gamma Mueller KG,food,West,AM01,AT,2025-06-01,80000.00,active,2026-11-22T08:00:00",
)
assert CUSTOMERS_D4 != CUSTOMERS_D3

ORDERS_HEADER = "order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,cost_of_goods_eur,updated_at\n"
ACTIVITIES_HEADER = "activity_id,customer_id,service_type_code,activity_date,duration_minutes,participants,employee_id,department,channel,billed_amount_eur,description,status,updated_at\n"

ORDERS_D4 = ORDERS_HEADER + """O12,1,C2,2025-06-01,valves,7000.00,4000.00,2026-11-22T10:00:00
O4,1,C1,2026-02-01,pumps,110000.00,70000.00,2026-11-22T10:00:00
"""
ACTIVITIES_D4 = ACTIVITIES_HEADER + """A12,C1,HOTLINE,2025-11-03,15,,E01,service,phone,0,Late call,done,2026-11-22T09:00:00
A7,C3,REPAIR,2025-12-30,90,,E03,service,on site,0,Goodwill repair,done,2026-11-22T09:00:00
A9,C4,COMMISSIONING,2026-07-02,480,,E03,service,on site,0,First plant started,cancelled,2026-11-22T09:00:00
"""
ORDERS_D4_AGAIN = ORDERS_HEADER + """O12,1,C2,2025-06-01,valves,7500.00,4000.00,2026-11-22T10:00:00
"""
ACTIVITIES_D4_AGAIN = ACTIVITIES_HEADER + """A7,C3,REPAIR,2025-12-30,90,,E03,service,on site,0,Goodwill repair,done,2026-11-22T09:00:00
A9,C4,COMMISSIONING,2026-07-02,480,,E03,service,on site,0,First plant started,cancelled,2026-11-22T09:00:00
"""
ACTIVITIES_EMPTIED_MONTH = ACTIVITIES_HEADER + """A2,C3,TRAINING,2025-09-15,480,6,E02,academy,on site,0,Operator training,cancelled,2026-11-23T09:00:00
"""
ORDERS_EMPTIED_QUARTER = ORDERS_HEADER + """O3,1,C3,2025-10-01,pumps,10000.00,8000.00,2026-11-24T10:00:00
"""
ORDERS_1998 = ORDERS_HEADER + """O98,1,C1,1998-06-15,pumps,5000.00,3000.00,
"""


def _write(landing: Path, folder: str, files: dict[str, str]) -> Path:
    path = landing / folder
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def write_d4(landing: Path, again: bool = False) -> Path:
    """D4, or its corrected re-delivery (`again`)."""
    return _write(landing, D4, {
        "customers.csv": CUSTOMERS_D4,
        "orders.csv": ORDERS_D4_AGAIN if again else ORDERS_D4,
        "service_activities.csv": ACTIVITIES_D4_AGAIN if again else ACTIVITIES_D4,
    })


def write_1998(landing: Path) -> Path:
    return _write(landing, D1998, {"orders.csv": ORDERS_1998})


# the two deliveries below are loaded by quarters; they leave 2025's third quarter without rows
# (D2, D3, D4 and 1998 add nothing to it)
QUARTERS = "{period_grain: quarter}"
EMPTIED = "2025-07-01"


def write_emptied_month(landing: Path) -> Path:
    """2026-11-24: A2, the only activity of September 2025 and of 2025's third quarter,
    cancelled."""
    return _write(landing, EMPTIED_MONTH, {"service_activities.csv": ACTIVITIES_EMPTIED_MONTH})


def write_emptied_quarter(landing: Path) -> Path:
    """2026-11-25: O3, the only order line of 2025's third quarter, moved to 2025-10-01."""
    return _write(landing, EMPTIED_QUARTER, {"orders.csv": ORDERS_EMPTIED_QUARTER})
