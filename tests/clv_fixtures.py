"""The purchase model's marts as the build writes them when its fit gives fixed parameters.

The hand-made warehouses of the tests hold five or six customers, too few to fit the model
(lib/clv/build.py fits on at least MIN_CUSTOMERS): there every forecast is empty. For the
surfaces that show a forecast, `write_forecast` runs the build's own code on the warehouse's
purchase summary with a fit that "finds" FORECAST_FITS, and appends FORECAST_HISTORY as the
customer_equity of two earlier as-of dates. Everything else stays as the load built it:
customer_value's model potential, computed by dbt from a fit that did not happen, stays empty.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

from orchestration.lib.clv import build, model

# BG/NBD per week as published for CDNOW (Fader, Hardie & Lee 2005); Gamma-Gamma on the scale
# of the fixtures' euros
FORECAST_FITS = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma_margin": {"p": 6.25, "q": 3.74, "gamma": 5000.0},
    "gamma_gamma_revenue": {"p": 6.25, "q": 3.74, "gamma": 20000.0},
}
LOG_LIKELIHOOD = -123.5
# customer_equity of two earlier as-of dates, as earlier loads would have appended them:
# (as_of_date, segment, customers, clv_eur, expected_margin_eur, mean_p_alive)
FORECAST_HISTORY = [
    (dt.date(2026, 9, 30), "develop", 1, 12000.0, 12500.0, 0.65),
    (dt.date(2026, 9, 30), "opportunistic", 1, 2500.0, 2600.0, 0.62),
    (dt.date(2026, 9, 30), "renegotiate", 1, 2400.0, 2500.0, 0.63),
    (dt.date(2026, 10, 31), "develop", 1, 13000.0, 13500.0, 0.61),
    (dt.date(2026, 10, 31), "invest", 1, 4000.0, 4200.0, 1.0),
    (dt.date(2026, 10, 31), "opportunistic", 1, 2700.0, 2800.0, 0.6),
    (dt.date(2026, 10, 31), "renegotiate", 1, 2300.0, 2400.0, 0.61),
]


def write_forecast(con) -> None:
    """Replace marts.customer_lifetime_value, clv_model and customer_equity of the database
    of `con` (tables, or the views of a published catalog) as described above."""

    def found(name):
        return model.Fit(dict(FORECAST_FITS[name]), LOG_LIKELIHOOD, 5, True, "")

    # build.fit fits Gamma-Gamma on margin first, then on revenue
    gamma_gamma = mock.Mock(side_effect=[found("gamma_gamma_margin"),
                                         found("gamma_gamma_revenue")])
    with mock.patch.object(build, "MIN_CUSTOMERS", 1), \
            mock.patch.object(model, "fit_bg_nbd", lambda *args: found("bg_nbd")), \
            mock.patch.object(model, "fit_gamma_gamma", gamma_gamma):
        outcome, frame = build.fit(build.read_inputs(con))
    con.execute(f"create temp table forecast_history ({build.EQUITY_COLUMNS})")
    con.executemany("insert into forecast_history values (?, ?, ?, ?, ?, ?)", FORECAST_HISTORY)
    views = {row[0] for row in con.execute(
        "select view_name from duckdb_views() where schema_name = 'marts'").fetchall()}
    for table in build.TABLES:
        if table in views:
            con.execute(f"drop view marts.{table}")
    build.write(con, outcome, frame)
    # the history stands for the earlier deliveries: none is computed again
    with mock.patch.object(build, "delivery_dates", lambda con: []):
        build.write_equity(con, "forecast_history")
