"""Server-side timings of the sales cockpit and the value statement; prints its figures.

Each figure is one full request through the Dash app's Flask server (the same callback the
browser calls, JSON included), or one statement written to disk (PDF and HTML):

  cockpit   /customer/<id>?period=P for the customer and period with the most activities
  services  the next page of that customer's service list, sorted by value transfer
  portfolio /portfolio?period=P for the latest period (every customer of it)
  statement `cvm statement <id> --period P` for the same customer

The pages are timed for each viewer of --as: `none` (no sign-in, every customer), `controller`
(signed in, every customer, through the viewer's views of the marts) and `sales` (signed in as
the account manager of the busiest customer: their customers only).

Usage:
  .venv/bin/python bench/cockpit_bench.py --warehouse data/demo/warehouse.duckdb [--repeat 5]
      [--as none,controller,sales]
Targets at 20,000 customers: cockpit < 500 ms, portfolio < 1 s, statement < 3 s; signed in, no
page more than 20 % slower than without sign-in.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestration.cockpit.app import create_app  # noqa: E402
from orchestration.cockpit.users import add_user  # noqa: E402
from orchestration.lib.reports.periods import read_periods  # noqa: E402
from orchestration.lib.reports.statement import write_statement  # noqa: E402
from orchestration.lib.reports.warehouse import Warehouse  # noqa: E402

TARGETS_MS = {"cockpit": 500, "services": 500, "portfolio": 1000, "statement": 3000}
SIGNED_IN_SLOWER = 0.20  # a signed-in page's median at most 20 % above the page without sign-in


def route_payload(pathname: str, search: str) -> dict:
    return {
        "output": "root.children",
        "outputs": {"id": "root", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": pathname},
                   {"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }


def services_payload(customer_id: str, period: str, page: int) -> dict:
    outputs = [("services-table", "data"), ("services-table", "page_count"),
               ("services-count", "children"), ("services-table", "page_current")]
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": "services-table", "property": "page_current", "value": page},
            {"id": "services-table", "property": "sort_by",
             "value": [{"column_id": "value_transfer", "direction": "desc"}]},
            {"id": "services-type", "property": "value", "value": None},
            {"id": "services-kind", "property": "value", "value": None},
            {"id": "services-text", "property": "value", "value": None},
        ],
        "changedPropIds": ["services-table.page_current"],
        "state": [{"id": "services-context", "property": "data",
                   "value": {"customer_id": customer_id, "period": period, "lang": "de",
                             "total": 0}}],
    }


def timed(fn, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", required=True, help="published DuckDB file")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--as", dest="viewers", default="none,controller,sales",
                        help="viewers to time, comma-separated: none, controller, sales")
    args = parser.parse_args(argv)
    warehouse = Path(args.warehouse).resolve()

    wh = Warehouse(warehouse)
    with wh.reader() as con:
        customers, activities = con.execute(
            "select count(distinct customer_id), count(*) from marts.fct_service_activities"
        ).fetchone()
        customer_id, period_start, busiest = con.execute(
            "select customer_id, period_start, count(*) from marts.customer_cockpit "
            "group by all order by 3 desc, 1 limit 1").fetchone()
        periods = read_periods(con)
        period = next(p for p in periods if p.start == period_start)
        latest = periods[-1]
        portfolio_size = con.execute(
            "select count(*) from marts.customer_value where period_start = ?",
            [latest.start]).fetchone()[0]
        manager, managed = con.execute(
            "select account_manager, (select count(*) from marts.dim_customers as d "
            "where d.account_manager = c.account_manager) "
            "from marts.dim_customers as c where customer_id = ?", [customer_id]).fetchone()

    work = Path(tempfile.mkdtemp(prefix="cvm-bench-"))
    out = work / "statement.pdf"
    users = work / "users.json"
    add_user(users, "bench-controller", "controller", "bench-password")
    add_user(users, "bench-sales", "sales", "bench-password", (manager,))
    print(f"warehouse {warehouse}: {customers:,} customers with activities, "
          f"{activities:,} activities")
    print(f"busiest customer {customer_id}: {busiest:,} activities in {period.key}; "
          f"portfolio {latest.key}: {portfolio_size:,} customers; its account manager "
          f"{manager}: {managed:,} customers")
    print("statement " + ", ".join(f"{v:.0f}" for v in timed(
        lambda: write_statement(wh, customer_id, out, period=period.key), args.repeat))
        + f" ms (cvm statement; target {TARGETS_MS['statement']})")
    failed = False
    unsigned: dict[str, float] = {}
    for viewer in args.viewers.split(","):
        failed |= _time_viewer(viewer.strip(), warehouse, users, customer_id, period, latest,
                               args.repeat, unsigned)
    return 1 if failed else 0


def _signed_in_client(warehouse: Path, users: Path, viewer: str):
    if viewer == "none":
        return create_app(warehouse, auth="none").server.test_client()
    client = create_app(warehouse, auth="users", users=users).server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post("/login", data={"username": f"bench-{viewer}",
                                         "password": "bench-password", "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def _time_viewer(viewer, warehouse, users, customer_id, period, latest, repeat,
                 unsigned) -> bool:
    client = _signed_in_client(warehouse, users, viewer)

    def post(payload):
        response = client.post("/_dash-update-component", data=json.dumps(payload),
                               content_type="application/json")
        assert response.status_code == 200, response.status_code
        return response

    cases = {
        "cockpit": lambda: post(route_payload(f"/customer/{customer_id}",
                                              f"?period={period.key}")),
        "services": lambda: post(services_payload(customer_id, period.key, 1)),
        "portfolio": lambda: post(route_payload("/portfolio", f"?period={latest.key}")),
    }
    print(f"\nas {viewer}:")
    print(f"{'case':<10} {'first':>9} {'median':>9} {'max':>9} {'target':>9}  "
          f"(ms, {repeat} runs after the first)")
    failed = False
    for name, case in cases.items():
        first = timed(case, 1)[0]
        runs = timed(case, repeat)
        worst, median = max(runs), statistics.median(runs)
        ok = worst < TARGETS_MS[name]
        note = "ok" if ok else "SLOWER THAN TARGET"
        if viewer == "none":
            unsigned[name] = median
        elif name in unsigned:
            change = median / unsigned[name] - 1
            note += f", median {change:+.0%} against no sign-in"
            if change > SIGNED_IN_SLOWER:
                note = note.replace("ok", "SIGNED IN TOO SLOW", 1)
                note += f" (target at most {SIGNED_IN_SLOWER:+.0%})"
                ok = False
        failed |= not ok
        print(f"{name:<10} {first:>9.0f} {median:>9.0f} {worst:>9.0f} "
              f"{TARGETS_MS[name]:>9}  {note}")
    size = len(post(route_payload("/portfolio", f"?period={latest.key}")).data)
    print(f"portfolio response: {size / 1e6:.1f} MB of JSON")
    return failed


if __name__ == "__main__":
    sys.exit(main())
