"""The CDNOW purchase log (Fader & Hardie's 1/10 sample, 2,357 customers), as the `lifetimes`
wheel ships it, mapped to a delivery: the published check of the purchase model.

The wheel is fetched from the package registry with pip when it is not cached yet (under
pytest's cache folder): `pip download --no-deps lifetimes==0.11.3`.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "lifetimes==0.11.3"
SAMPLE = "lifetimes/datasets/CDNOW_sample.txt"
CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01


def sample_lines(cache: Path) -> list[str]:
    """The lines of CDNOW_sample.txt: master id, sample id, yyyymmdd, CDs, dollars."""
    wheels = sorted(cache.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "-d", str(cache), WHEEL], check=True, timeout=300)
        wheels = sorted(cache.glob("[Ll]ifetimes-0.11.3-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        return wheel.read(SAMPLE).decode("ascii").splitlines()


def write_delivery(landing: Path, lines: list[str]) -> Path:
    """The calibration period's orders (one order line each, the spend as revenue, no cost of
    goods) and the customers (customer_since = first purchase), delivered on its last day."""
    end = dt.date.fromisoformat(CALIBRATION_END)
    orders = ["order_id,line_no,customer_id,order_date,net_revenue_eur"]
    first: dict[str, dt.date] = {}
    for number, line in enumerate(lines, start=1):
        _, customer, day, _, dollars = line.split()
        date = dt.datetime.strptime(day, "%Y%m%d").date()
        if date > end:
            continue
        first[customer] = min(first.get(customer, date), date)
        orders.append(f"T{number},1,{customer},{date.isoformat()},{dollars}")
    customers = ["customer_id,customer_name,customer_since"]
    customers += [f"{c},CDNOW customer {c},{d.isoformat()}" for c, d in sorted(first.items())]
    folder = landing / CALIBRATION_END
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text("\n".join(orders) + "\n", encoding="utf-8")
    (folder / "customers.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    return folder
