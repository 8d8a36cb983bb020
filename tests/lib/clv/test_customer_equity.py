"""The value of the customer base (marts.customer_equity) over every as-of date the deliveries
allow: hand-made deliveries on three dates, the engine's database built by hand (raw zone,
the load's marts), and what a rebuild and a nightly after it write."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.clv import build, model

D1, D2, D3, D4 = (dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31),
                  dt.date(2026, 4, 30))
CUSTOMERS = 45
SEGMENTS = ("invest", "develop", "renegotiate")


def _line(order_id, customer, day, revenue, cost, extract_date, line_number):
    return {"order_id": order_id, "line_no": 1, "customer_id": customer, "order_date": day,
            "net_revenue_eur": revenue, "cost_of_goods_eur": cost, "updated_at": None,
            "extract_date": extract_date, "line_number": line_number}


def _orders() -> list[dict]:
    """The order lines of the deliveries D1, D2 and D4 (D3 delivers customers only): C00 and
    C03 by hand, the others drawn once from a seeded generator (spend and rhythm differ between
    customers, as the model needs); C40..C44 buy first in February."""
    rows = [
        _line("O0-1", "C00", dt.date(2026, 1, 1), 100, 60, D1, 1),
        _line("O0-3", "C00", dt.date(2026, 2, 1), 120, 70, D2, 1),
        # a line of January that D1 did not hold
        _line("O0-5", "C00", dt.date(2026, 1, 28), 70, 30, D2, 2),
        _line("O0-6", "C00", dt.date(2026, 4, 10), 90, 40, D4, 1),
        _line("O3-1", "C03", dt.date(2026, 1, 4), 130, 75, D1, 1),
        _line("O3-2", "C03", dt.date(2026, 1, 18), 101, 50, D1, 2),
        _line("O3-3", "C03", dt.date(2026, 2, 4), 129, 70, D2, 3),
        # D2 delivers C03's January line again: 500 instead of 101 (the later extract wins)
        _line("O3-2", "C03", dt.date(2026, 1, 18), 500, 50, D2, 4),
    ]
    rng = np.random.default_rng(20261204)
    for i in range(CUSTOMERS):
        if i in (0, 3):
            continue
        scale = rng.gamma(2.0, 60.0)
        months = [(2, D2, 28), (4, D4, 30)] if i >= 40 else [(1, D1, 31), (2, D2, 28),
                                                              (4, D4, 30)]
        for number, (month, delivered, last) in enumerate(months):
            first = number == 0
            count = int(rng.poisson(2.0)) + (1 if first else 0)
            for k in range(count):
                revenue = float(round(10 + rng.gamma(4.0, scale / 4.0)))
                cost = float(round(revenue * rng.uniform(0.3, 0.7)))
                if month == 1:  # D1 delivers the lines of October to January
                    day = D1 - dt.timedelta(days=int(rng.integers(0, 123)))
                else:
                    day = dt.date(2026, month, int(rng.integers(1, last + 1)))
                rows.append(_line(f"O{i}-{month}-{k}", f"C{i:02d}", day, revenue, cost,
                                  delivered, len(rows) + 1))
    return rows


def _expected_inputs(as_of: dt.date) -> pd.DataFrame:
    """The purchase model's inputs as of `as_of`, worked out in plain Python from the rules: of
    the lines delivered by then, the last delivered version per line; a purchase is a day with a
    line; frequency = days - 1, recency = last - first day, T = as_of - first day; the mean
    value of the repeat days (every day but the first)."""
    current = {}
    for row in sorted(_orders(), key=lambda r: (r["extract_date"], r["line_number"])):
        if row["extract_date"] <= as_of:
            current[(row["order_id"], row["line_no"])] = row
    days: dict[str, dict[dt.date, list[float]]] = {}
    for row in current.values():
        day = days.setdefault(row["customer_id"], {}).setdefault(row["order_date"], [0.0, 0.0])
        day[0] += row["net_revenue_eur"]
        day[1] += row["net_revenue_eur"] - row["cost_of_goods_eur"]
    records = []
    for customer in sorted(days):
        ordered = sorted(days[customer])
        repeat = [days[customer][d] for d in ordered[1:]]
        records.append({
            "customer_id": customer, "as_of_date": as_of, "purchases": len(ordered),
            "frequency": len(ordered) - 1, "recency_days": (ordered[-1] - ordered[0]).days,
            "t_days": (as_of - ordered[0]).days,
            "avg_repeat_revenue_eur": sum(r for r, _ in repeat) / len(repeat) if repeat else None,
            "avg_repeat_margin_eur": sum(m for _, m in repeat) / len(repeat) if repeat else None,
            "horizon_months": 12, "discount_rate_annual": 0.08})
    return pd.DataFrame(records)


def _segment(i: int, month: int) -> str | None:
    """customer_value's segment of customer i in the month: none for C00, C07, C14, ... in
    February (no row there)."""
    if month == 2 and i % 7 == 0:
        return None
    return SEGMENTS[(i + month) % 3]


def _engine(path, deliveries: tuple[dt.date, ...]) -> duckdb.DuckDBPyConnection:
    """The engine's database after the dbt build of a load of `deliveries`: the raw zone
    (orders; customers delivered on every date), customer_value and the load's fit."""
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists marts")
    orders = pd.DataFrame([r for r in _orders() if r["extract_date"] in deliveries])
    orders["updated_at"] = pd.to_datetime(orders["updated_at"])
    con.register("orders_frame", orders)
    con.execute("create or replace table raw.orders as select * from orders_frame")
    con.execute("create or replace table raw.customers as select * from "
                "unnest(?::date[]) as t(extract_date)", [list(deliveries)])
    con.execute("create or replace table raw.service_activities (extract_date DATE)")
    value = [{"customer_id": f"C{i:02d}", "period_start": dt.date(2026, m, 1),
              "period_end": (dt.date(2026, m + 1, 1) - dt.timedelta(days=1)),
              "segment": _segment(i, m)}
             for i in range(CUSTOMERS) for m in range(1, 5) if _segment(i, m)]
    con.register("value_frame", pd.DataFrame(value))
    con.execute("create or replace table marts.customer_value as select * from value_frame")
    inputs = _expected_inputs(max(deliveries))
    con.register("inputs_frame", inputs)
    con.execute("create or replace table marts.customer_purchase_summary as "
                "select * from inputs_frame")
    outcome, frame = build.fit(inputs)
    assert outcome.failures == [] and set(outcome.fits) == set(build.MODELS)
    build.write(con, outcome, frame)
    return con


def _equity(con) -> dict:
    return {(day, segment): (customers, clv, margin, alive) for day, segment, customers, clv,
            margin, alive in con.execute("select * from marts.customer_equity").fetchall()}


def _fitted_sums(as_of: dt.date, month: int) -> dict:
    """Per segment the customers and the sums of clv_eur and expected margin of the model fitted
    on the inputs as of `as_of` (build.fit itself), rounded per customer as the mart rounds."""
    outcome, frame = build.fit(_expected_inputs(as_of))
    assert outcome.failures == [] and set(outcome.fits) == set(build.MODELS), as_of
    frame["segment"] = [_segment(int(c[1:]), month) or "none" for c in frame["customer_id"]]
    frame["clv_eur"] = frame["clv_eur"].round(4)
    frame["expected_margin_eur"] = frame["expected_margin_eur"].round(4)
    grouped = frame.groupby("segment").agg(customers=("customer_id", "count"),
                                           clv=("clv_eur", "sum"),
                                           margin=("expected_margin_eur", "sum"))
    return {s: (int(r.customers), r.clv, r.margin) for s, r in grouped.iterrows()}


def test_the_inputs_as_of_a_date_are_the_order_lines_the_deliveries_knew_then(tmp_path):
    con = _engine(tmp_path / "engine.duckdb", (D1, D2, D3))
    assert build.delivery_dates(con) == [D1, D2, D3]
    for day in (D1, D2, D3):
        found = build.summary_as_of(con, day, 12, 0.08)
        expected = _expected_inputs(day)
        pd.testing.assert_frame_equal(
            found.drop(columns="as_of_date"), expected.drop(columns="as_of_date"),
            check_dtype=False)
        assert set(found["as_of_date"].dt.date) == {day}
    rows = {day: build.summary_as_of(con, day, 12, 0.08).set_index("customer_id")
            for day in (D1, D2, D3)}
    # C00 on D1: one purchase on Jan 1, T = Jan 1 -> Jan 31 = 30 days; on D2 also the Jan 28
    # line that D2 brought and Feb 1: 3 days, recency 31, T = 58 (89 on D3), repeat margins
    # (70 - 30) and (120 - 70) -> mean 45
    c00 = [(r.loc["C00", "purchases"], r.loc["C00", "recency_days"], r.loc["C00", "t_days"])
           for r in rows.values()]
    assert c00 == [(1, 0, 30), (3, 31, 58), (3, 31, 89)]
    assert rows[D2].loc["C00", "avg_repeat_margin_eur"] == pytest.approx(45.0)
    # C03's Jan 18 line: 101 as D1 delivered it, 500 as D2 delivered it again
    assert rows[D1].loc["C03", "avg_repeat_revenue_eur"] == pytest.approx(101.0)
    assert rows[D2].loc["C03", "avg_repeat_revenue_eur"] == pytest.approx((500 + 129) / 2)
    # C40..C44 buy first in February: 40 customers as of D1, 45 after
    assert [len(r) for r in rows.values()] == [40, 45, 45]


def test_a_rebuild_computes_every_delivery_date_and_a_nightly_appends_its_own(tmp_path):
    path = tmp_path / "engine.duckdb"
    con = _engine(path, (D1, D2, D3))
    # the published history holds a stale row of D1; a rebuild computes every date again
    con.execute(f"create table published ({build.EQUITY_COLUMNS})")
    con.execute("insert into published values (?, 'invest', 99, 1, 1, 0.5)", [D1])
    lines = []
    assert build.write_equity(con, "published", rebuild=True, echo=lines.append) == [D1, D2]
    assert [line.split(":")[0] for line in lines] == [
        "  customer_equity as of 2026-01-31 (1/2)", "  customer_equity as of 2026-02-28 (2/2)"]
    rebuilt = _equity(con)
    assert sorted({day for day, _ in rebuilt}) == [D1, D2, D3]
    # customers per segment, from the rules: D1 (January, 40 customers C00..C39): segment
    # (i + 1) % 3 -> invest for i % 3 == 2 (C02, C05, .., C38: 13), develop for i % 3 == 0
    # (C00, .., C39: 14), renegotiate for i % 3 == 1 (13). D2 (February, 45): none for the 7
    # of C00, C07, .., C42; invest (i % 3 == 1) 15 - 2 (C07, C28), develop (i % 3 == 2)
    # 15 - 2 (C14, C35), renegotiate (i % 3 == 0) 15 - 3 (C00, C21, C42). D3 (March):
    # segment i % 3, 15 each.
    counts = {(day, segment): row[0] for (day, segment), row in rebuilt.items()}
    assert counts == {
        (D1, "invest"): 13, (D1, "develop"): 14, (D1, "renegotiate"): 13,
        (D2, "invest"): 13, (D2, "develop"): 13, (D2, "renegotiate"): 12, (D2, "none"): 7,
        (D3, "invest"): 15, (D3, "develop"): 15, (D3, "renegotiate"): 15}
    # the sums are those of the model fitted on each date's inputs
    for day, month in ((D1, 1), (D2, 2), (D3, 3)):
        for segment, (customers, clv, margin) in _fitted_sums(day, month).items():
            found = rebuilt[(day, segment)]
            assert found[0] == customers
            assert float(found[1]) == pytest.approx(clv, abs=1e-3)
            assert float(found[2]) == pytest.approx(margin, abs=1e-3)
    # the dates differ: the model saw other order lines (not one fit copied to every date)
    assert rebuilt[(D1, "invest")][1] != rebuilt[(D3, "invest")][1]
    con.execute("create table history as select * from marts.customer_equity")
    con.close()

    # a nightly with D4: the earlier dates' rows stay as they are, although customer_value now
    # puts everyone in another segment; D4's rows are the load's fit
    con = _engine(path, (D1, D2, D3, D4))
    con.execute("update marts.customer_value set segment = 'invest'")
    lines.clear()
    assert build.write_equity(con, "history", echo=lines.append) == []
    assert lines == []
    nightly = _equity(con)
    assert {k: v for k, v in nightly.items() if k[0] != D4} == rebuilt
    assert {k: v[0] for k, v in nightly.items() if k[0] == D4} == {(D4, "invest"): 45}

    # a nightly whose history lacks D2 computes D2 again, and only D2
    con.execute("delete from history where as_of_date = ?", [D2])
    assert build.write_equity(con, "history", echo=lines.append) == [D2]
    again = _equity(con)
    assert {k: v for k, v in again.items() if k[0] in (D1, D3)} == \
        {k: v for k, v in rebuilt.items() if k[0] in (D1, D3)}
    # (the 7 customers without a row in February stay without a segment)
    assert {k: v[0] for k, v in again.items() if k[0] == D2} == {(D2, "invest"): 38,
                                                                  (D2, "none"): 7}
    con.close()


def test_the_inputs_as_of_the_data_end_are_the_dbt_builds(reports_warehouse):
    """On a warehouse of two deliveries built by dbt, the inputs
    that summary_as_of rebuilds from the raw zone for the data's end are exactly dbt's
    customer_purchase_summary; customer_equity holds a date for every delivery."""
    con = duckdb.connect(str(reports_warehouse), read_only=True)
    try:
        dbt = build.read_inputs(con)
        latest = dbt["as_of_date"].iloc[0].date()
        dates = build.delivery_dates(con)
        assert dates[-1] == latest and len(dates) > 1
        found = build.summary_as_of(con, latest, int(dbt["horizon_months"].iloc[0]),
                                    float(dbt["discount_rate_annual"].iloc[0]))
        pd.testing.assert_frame_equal(found, dbt, check_dtype=False)
        assert [row[0] for row in con.execute(
            "select distinct as_of_date from marts.customer_equity order by 1").fetchall()] \
            == dates
    finally:
        con.close()


def test_an_earlier_dates_failed_fit_leaves_its_sums_empty(tmp_path, monkeypatch):
    """A fit of an earlier date that does not converge keeps its customers and leaves empty
    what depends on the failed model; the log line names the failure."""
    con = _engine(tmp_path / "engine.duckdb", (D1, D2))
    failed = model.Fit({"p": 2.0, "q": 3.0, "gamma": 10.0}, -1.0, 40, False, "ABNORMAL")
    monkeypatch.setattr(model, "fit_gamma_gamma", lambda x, m: failed)
    lines = []
    assert build.write_equity(con, None, echo=lines.append) == [D1]
    assert "gamma_gamma_margin: the fit did not converge (ABNORMAL)" in lines[0]
    rows = con.execute("select customers, clv_eur, expected_margin_eur, mean_p_alive "
                       "from marts.customer_equity where as_of_date = ?", [D1]).fetchall()
    assert sum(r[0] for r in rows) == 40
    assert all(r[1] is None and r[2] is None and r[3] is not None for r in rows)
    con.close()
