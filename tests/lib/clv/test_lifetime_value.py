"""What a customer will be worth: the purchase model (lib/clv), checked by hand-worked values
and against the published fits on the CDNOW sample, loaded through the real path."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from orchestration.lib.clv import build, model
from tests import cdnow_fixtures as cdnow


def _fit(**parameters) -> model.Fit:
    return model.Fit(parameters, 0.0, 0, True, "")


def test_p_alive_is_one_without_a_repeat_purchase_and_hand_worked_with_one():
    fit = _fit(r=1.0, alpha=1.0, a=1.0, b=2.0)
    # x = 0: BG/NBD lets a customer drop out only after a purchase: P(alive) = 1
    # x = 1, t_x = 1, T = 3: 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))
    #   = 1 / (1 + 1/2 * (4/2)^2) = 1 / 3
    alive = model.p_alive(fit, [0, 1], [0, 1], [3, 3])
    assert alive[0] == 1.0
    assert alive[1] == pytest.approx(1 / 3, abs=1e-12)


def test_value_per_purchase_population_estimate_shrinkage_and_non_positive_means():
    fit = _fit(p=2.0, q=3.0, gamma=10.0)
    # x = 0: the population mean p gamma / (q - 1) = 2 * 10 / 2 = 10, not 0 and not null
    # x = 2, mean 40: p (gamma + x m) / (p x + q - 1) = 2 * (10 + 80) / (4 + 2) = 30
    # x = 1, mean 0 and x = 3, mean -5: outside Gamma-Gamma, their own mean
    values = build.value_per_purchase(fit, [0, 2, 1, 3], [np.nan, 40.0, 0.0, -5.0])
    assert values.tolist() == pytest.approx([10.0, 30.0, 0.0, -5.0])
    assert build.value_per_purchase(None, [1], [5.0]).tolist() == [pytest.approx(np.nan,
                                                                                 nan_ok=True)]


def test_clv_discounts_each_month_at_the_equivalent_monthly_rate(monkeypatch):
    # one purchase a month, 100 EUR of margin each, 12 months at 8 % a year: month m is
    # worth 100 / 1.08^(m/12); v = 1.08^(-1/12) = e^(-0.0769610 / 12) = 0.9936071,
    # sum v^m = v (1 - v^12) / (1 - v) = 0.9936071 * (1 - 0.9259259) / 0.0063929
    # = 0.9936071 * 11.58693 = 11.51286 -> 1,151.29 (undiscounted 1,200)
    monkeypatch.setattr(model, "expected_purchases",
                        lambda fit, weeks, x, t_x, T: np.full(len(x), weeks * 7
                                                              / model.DAYS_PER_MONTH))
    clv = build.discounted_margin(None, [100.0], 12, 0.08, [0], [0], [1])
    assert clv[0] == pytest.approx(1151.29, abs=0.01)
    assert build.monthly_rate(0.08) == pytest.approx(1.08 ** (1 / 12) - 1)
    # no discount: the undiscounted margin
    assert build.discounted_margin(None, [100.0], 12, 0.0, [0], [0], [1])[0] == \
        pytest.approx(1200.0)


def _inputs(customers: int) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(customers)],
        "as_of_date": [dt.date(2026, 1, 31)] * customers,
        "purchases": [1 + i % 4 for i in range(customers)],
        "frequency": [i % 4 for i in range(customers)],
        "recency_days": [(i % 4) * 20 for i in range(customers)],
        "t_days": [100 + i for i in range(customers)],
        "avg_repeat_revenue_eur": [None if i % 4 == 0 else 100.0 + i for i in range(customers)],
        "avg_repeat_margin_eur": [None if i % 4 == 0 else 10.0 + i for i in range(customers)],
        "horizon_months": [12] * customers,
        "discount_rate_annual": [0.08] * customers,
        "segment": ["invest" if i % 2 else "develop" for i in range(customers)],
    })


def test_too_few_customers_fit_no_model_and_leave_the_forecast_null():
    outcome, frame = build.fit(_inputs(build.MIN_CUSTOMERS - 1))
    assert outcome.fits == {} and set(outcome.not_fitted) == set(build.MODELS)
    assert outcome.failures == []
    assert frame["clv_eur"].isna().all() and frame["p_alive"].isna().all()


def test_customer_equity_carries_earlier_dates_and_replaces_its_own(tmp_path):
    con = duckdb.connect(str(tmp_path / "engine.duckdb"))
    con.execute("create table history (as_of_date DATE, segment VARCHAR, customers BIGINT, "
                "clv_eur DECIMAL(18, 4), expected_margin_eur DECIMAL(18, 4), "
                "mean_p_alive DOUBLE)")
    con.execute("insert into history values ('2026-01-30', 'invest', 7, 1, 1, 0.5), "
                "('2026-01-31', 'invest', 99, 1, 1, 0.5)")
    inputs = _inputs(40)
    outcome, frame = build.fit(inputs)
    assert outcome.failures == [] and set(outcome.fits) == set(build.MODELS)
    build.write(con, outcome, frame)
    # the segments of the period that holds the as-of date, from customer_value
    con.register("inputs", inputs)
    con.execute("create table marts.customer_purchase_summary as select * from inputs")
    con.execute("create table marts.customer_value as select customer_id, "
                "date '2026-01-01' as period_start, date '2026-12-31' as period_end, segment "
                "from inputs union all select customer_id, date '2025-01-01', "
                "date '2025-12-31', 'invest' from inputs")
    # the deliveries of 2026-01-30 and 2026-01-31 (the raw zone's extract dates)
    con.execute("create schema raw")
    for entity in build.DELIVERY_ENTITIES:
        con.execute(f"create table raw.{entity} as select * from (values (date '2026-01-30'), "
                    "(date '2026-01-31')) as t(extract_date)")
    assert build.write_equity(con, "history") == []
    rows = con.execute("select as_of_date::varchar, segment, customers "
                       "from marts.customer_equity").fetchall()
    # 2026-01-30 kept (no rebuild); 2026-01-31 recomputed: 20 customers in each segment
    assert rows == [("2026-01-30", "invest", 7), ("2026-01-31", "develop", 20),
                    ("2026-01-31", "invest", 20)]
    columns = [r[0] for r in con.execute("describe marts.customer_lifetime_value").fetchall()]
    assert columns == ["customer_id", "as_of_date", "purchases", "frequency", "recency_days",
                       "t_days", "avg_margin_per_purchase_eur", "p_alive",
                       "expected_purchases", "expected_revenue_eur", "expected_margin_eur",
                       "clv_eur", "horizon_months"]
    con.close()


def test_the_forecast_is_a_years_expected_revenue_and_margin_undiscounted(tmp_path):
    """purchase_model.annual_forecast holds what the model expects in the 12 months after the
    as-of date: with a horizon of 12 months, exactly the expected revenue and margin of
    customer_lifetime_value (undiscounted, unlike clv_eur); with a horizon of 6, more."""
    con = duckdb.connect(str(tmp_path / "engine.duckdb"))
    for horizon in (12, 6):
        outcome, frame = build.fit(_inputs(40).assign(horizon_months=horizon))
        build.write(con, outcome, frame)
        rows = con.execute(f"""
            select f.customer_id, f.expected_revenue_year_eur, c.expected_revenue_eur,
                   f.expected_margin_year_eur, c.expected_margin_eur, c.clv_eur
            from {build.FORECAST} as f join marts.customer_lifetime_value as c using
            (customer_id) order by f.customer_id""").fetchall()
        assert len(rows) == 40
        for _, revenue_year, revenue, margin_year, margin, clv in rows:
            if horizon == 12:
                assert (revenue_year, margin_year) == (revenue, margin)
                assert clv < margin  # discounted
            else:
                assert revenue_year > revenue and margin_year > margin
    con.close()


PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.744, "gamma": 15.444}


@pytest.mark.slow
def test_a_cdnow_load_reproduces_the_published_fits(tmp_path, request):
    """The 1/10 CDNOW sample as a delivery dated 1997-09-30, loaded by `cvm load` with a
    horizon of 9 months (to the end of the holdout, 1998-06-30): marts.clv_model holds
    Fader, Hardie & Lee's BG/NBD and Gamma-Gamma (spend) parameters within 1 %."""
    from orchestration.runner import run_load

    lines = cdnow.sample_lines(request.config.cache.mkdir("lifetimes_wheel"))
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    cdnow.write_delivery(landing, lines)
    outcome = run_load(landing, warehouse, echo=lambda _: None,
                       dbt_vars="{clv_horizon_months: 9}")
    assert outcome.exit_code == 0, outcome.error
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select model, parameter, value, log_likelihood, customers, "
                           "time_unit, as_of_date::varchar from marts.clv_model").fetchall()
        fits = {(m, p): v for m, p, v, *_ in rows}
        for name, value in PUBLISHED_BG_NBD.items():
            assert fits[("bg_nbd", name)] == pytest.approx(value, rel=0.01), name
        for model_name in ("gamma_gamma_margin", "gamma_gamma_revenue"):  # no cost of goods
            for name, value in PUBLISHED_GAMMA_GAMMA.items():
                assert fits[(model_name, name)] == pytest.approx(value, rel=0.01), name
        summary = {(m, unit, day): (round(ll, 1), n) for m, _, _, ll, n, unit, day in rows}
        assert summary[("bg_nbd", "week", "1997-09-30")] == (-9582.4, 2357)
        assert summary[("gamma_gamma_margin", None, "1997-09-30")][1] == 946
        # customer 0001 bought on 1997-01-01, 01-18 and 08-02 (and 12-12, after the
        # calibration): 3 purchase days, x = 2, recency 1997-01-01 -> 08-02 = 213 days,
        # T = 1997-01-01 -> 09-30 = 272 days = 38.86 weeks; its repeat days' mean spend is
        # (29.73 + 14.96) / 2 = 22.345
        assert con.execute(
            "select purchases, frequency, recency_days, t_days, avg_repeat_margin_eur "
            "from marts.customer_purchase_summary where customer_id = '0001'"
        ).fetchone() == (3, 2, 213, 272, pytest.approx(22.345))
        assert round(272 / 7, 2) == 38.86
        # customer 0003 bought once, on 1997-01-01: no repeat purchase, so alive for sure and
        # worth the population's mean spend p gamma / (q - 1), not 0 and not null
        only = con.execute(
            "select purchases, frequency, recency_days, t_days, p_alive, "
            "avg_margin_per_purchase_eur, horizon_months, expected_purchases "
            "from marts.customer_lifetime_value where customer_id = '0003'").fetchone()
        assert only[:4] == (1, 0, 0, 272)
        p, q, gamma = (fits[("gamma_gamma_margin", n)] for n in ("p", "q", "gamma"))
        assert only[4] == 1.0
        assert float(only[5]) == pytest.approx(p * gamma / (q - 1), abs=1e-4)
        assert only[6] == 9 and only[7] > 0
        equity = con.execute("select sum(customers) from marts.customer_equity").fetchone()
        assert equity == (2357,)
        # nobody typed a potential, so the model's stands in: for 0003 (x = 0, T = 272 days)
        # the purchases BG/NBD expects in the 12 months after 1997-09-30 (Fader, Hardie & Lee
        # 2005, eq. 10, with x = 0) times the population's mean spend; 1997 is one whole
        # year, so the period's potential is that year's
        r, alpha, a, b = (fits[("bg_nbd", n)] for n in ("r", "alpha", "a", "b"))
        p, q, gamma = (fits[("gamma_gamma_revenue", n)] for n in ("p", "q", "gamma"))
        T, t = 272 / 7, 12 * (365.25 / 12) / 7
        purchases = (a + b - 1) / (a - 1) * (
            1 - ((alpha + T) / (alpha + T + t)) ** r
            * hyp2f1(r, b, a + b - 1, t / (alpha + T + t)))
        source, model_potential, potential = con.execute(
            "select potential_source, model_potential_value_eur, potential_value_eur "
            "from marts.customer_value where customer_id = '0003'").fetchone()
        assert source == "model" and potential == model_potential
        assert float(potential) == pytest.approx(purchases * p * gamma / (q - 1), abs=1e-3)
        assert con.execute("select count(*) from marts.customer_value "
                           "where potential_source <> 'model'").fetchone() == (0,)
    finally:
        con.close()


def test_the_bg_nbd_gradient_is_the_slope_of_its_likelihood():
    """The analytic gradient (model.bg_nbd_objective) agrees with central differences of the
    negative log-likelihood, at points inside and near the fitted region."""
    rng = np.random.default_rng(3)
    x = rng.poisson(3, 300).astype(float)
    T = rng.integers(10, 260, 300) / 1.0
    t_x = np.where(x > 0, T * rng.random(300), 0.0)
    negative_ll, gradient = model.bg_nbd_objective(x, t_x, T)
    for point in ([0.0, 1.0, 0.0, 0.0], [-0.2, 1.3, 0.7, 1.6], [1.0, 2.0, 3.0, 4.0]):
        point = np.array(point)
        step = 1e-5
        central = [(negative_ll(point + step * unit) - negative_ll(point - step * unit))
                   / (2 * step) for unit in np.eye(4)]
        assert gradient(point) == pytest.approx(central, rel=1e-5, abs=1e-4)


def test_the_gamma_gamma_gradient_is_the_slope_of_its_likelihood():
    """The analytic gradient (model.gamma_gamma_objective) agrees with central differences
    of the negative log-likelihood, at points inside and near the fitted region."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 12, 300).astype(float)
    m = rng.gamma(3.0, 40.0, 300)
    negative_ll, gradient = model.gamma_gamma_objective(x, m)
    for point in ([0.0, 0.7, 4.0], [-0.5, 1.2, 3.0], [1.0, 0.2, 5.5]):
        point = np.array(point)
        step = 1e-5
        central = [(negative_ll(point + step * unit) - negative_ll(point - step * unit))
                   / (2 * step) for unit in np.eye(3)]
        assert gradient(point) == pytest.approx(central, rel=1e-5, abs=1e-4)


def _steady_buyers():
    """x, t_x, T (weeks) of customers who never drop out: the last purchase falls anywhere."""
    x = np.array([i % 4 for i in range(40)], dtype=float)
    T = np.array([(100 + i) / 7 for i in range(40)])
    t_x = np.array([(i % 4) * 20 / 7 for i in range(40)])
    return x, t_x, T


def test_a_base_where_nobody_drops_out_is_fitted_at_the_flat_top():
    """Purchases at a steady rate and no drop-out: the likelihood rises towards a and b
    infinite together (a ridge). The fit follows the ridge until it is flat and says so,
    rather than blocking the load; its predictions then barely depend on where it stopped."""
    fit = model.fit_bg_nbd(*_steady_buyers())
    assert fit.converged, fit.message
    assert "flat" in fit.message
    assert fit["a"] / (fit["a"] + fit["b"]) < 0.5  # at most a coin's chance to drop out
    # the top: no restart of the optimiser from anywhere near finds a higher likelihood
    negative_ll, _ = model.bg_nbd_objective(*_steady_buyers())
    top = np.log([fit[n] for n in model.BG_NBD_PARAMETERS])
    for shift in np.eye(4) * 0.5:
        assert negative_ll(top + shift) >= -fit.log_likelihood - 1e-6
