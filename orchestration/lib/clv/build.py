"""What a customer will be worth: the purchase model fitted on the engine's marts, and its
results written beside them.

Runs once per load under the writer's lock, between the two parts of the dbt build
(lib/warehouse/dbt_build.py): `run` reads `marts.customer_purchase_summary` (one row per
customer with a purchase day, as of the data's end), fits BG/NBD and two Gamma-Gamma models
(model.py), and writes to the engine's database:

- `marts.customer_lifetime_value`: one row per customer: p_alive, the expected purchases,
  revenue and margin over the horizon (var `clv_horizon_months`), and `clv_eur`, the expected
  margin month by month, discounted at the monthly rate equivalent to
  `clv_discount_rate_annual`;
- `marts.clv_model`: one row per model and parameter;
- `purchase_model.annual_forecast`: per customer, the revenue and margin expected in the 12
  months after the data's end, undiscounted: the potential where sales gave none, which the
  build's second part reads (on Spark through a Parquet copy, spark_engine.write_forecast).

After the second part, `run_equity` writes `marts.customer_equity`: one row per as-of date
and segment (the segment of the period holding the as-of date, in customer_value). The as-of
dates are the deliveries' extract dates (each delivery's data_through). This load's own date
is always (re)computed from its fit, so a load that does not move the data's end replaces its
own date's rows. An earlier date keeps its rows from the catalog being published (its last
published state), as a load computed them then; a date without rows there, and every earlier
date on a full build (a rebuild), is computed again: the model is fitted on the order history
as the deliveries up to that date knew it (`summary_as_of`: the raw zone's versions delivered
by then, of which the re-delivery rule keeps one per order line, as dbt's latest_delivery
does), with the vars of this load; a failed fit of such a date leaves its sums empty rather
than stopping the load. Publishing exports the marts like every other mart.

The value per purchase: a customer with repeat purchases of positive mean value gets
Gamma-Gamma's conditional mean, a customer without a repeat purchase the population mean
p gamma / (q - 1), a customer whose repeat purchases have a zero or negative mean value
(outside Gamma-Gamma, which holds positive values only) its own mean, unshrunk.

A model is fitted only on at least MIN_CUSTOMERS customers; below that, it is not fitted,
has no rows in clv_model, and what depends on it is null.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.clv import model
from orchestration.lib.warehouse import spark_engine
from orchestration.lib.warehouse.store import Store, sql_literal

MIN_CUSTOMERS = 20
MODELS = ("bg_nbd", "gamma_gamma_margin", "gamma_gamma_revenue")
NO_SEGMENT = "none"  # a customer without a customer_value row in the as-of date's period
TABLES = ("customer_lifetime_value", "clv_model", "customer_equity")
FORECAST = spark_engine.FORECAST  # purchase_model.annual_forecast
FORECAST_MONTHS = 12


@dataclass
class Outcome:
    """What one fit did: per model its fit, or why it was not fitted."""

    as_of_date: dt.date | None
    customers: int
    fits: dict[str, model.Fit] = field(default_factory=dict)
    not_fitted: dict[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        """The models whose fit was tried and did not give a usable result."""
        found = []
        for name, fit in self.fits.items():
            if not fit.converged:
                found.append(f"{name}: the fit did not converge ({fit.message})")
            elif name != "bg_nbd" and fit["q"] <= 1:
                found.append(f"{name}: q = {fit['q']:.4g} <= 1, no finite mean value per "
                             "purchase")
        return found


def monthly_rate(annual: float) -> float:
    """The monthly rate equivalent to an annual one: (1 + annual)^(1/12) - 1."""
    return (1.0 + annual) ** (1.0 / 12.0) - 1.0


def discounted_margin(bg_nbd: model.Fit, margin_per_purchase, horizon_months: int,
                      discount_rate_annual: float, x, t_x, T) -> np.ndarray:
    """Sum over the months m = 1..horizon of the purchases expected in month m times the
    margin per purchase, divided by (1 + monthly rate)^m; times in weeks."""
    rate = monthly_rate(discount_rate_annual)
    weeks_per_month = model.DAYS_PER_MONTH / model.DAYS_PER_WEEK
    total = np.zeros(len(np.asarray(x)))
    before = np.zeros_like(total)
    for month in range(1, horizon_months + 1):
        upto = model.expected_purchases(bg_nbd, month * weeks_per_month, x, t_x, T)
        total += (upto - before) / (1.0 + rate) ** month
        before = upto
    return total * np.asarray(margin_per_purchase, dtype=float)


def value_per_purchase(fit: model.Fit | None, x, mean) -> np.ndarray:
    """Expected value of a future purchase (see the module docstring); NaN when the model was
    not fitted."""
    x = np.asarray(x, dtype=float)
    mean = np.asarray(mean, dtype=float)
    if fit is None:
        return np.full_like(x, np.nan)
    out = model.conditional_mean_value(fit, x, np.where(x > 0, mean, 0.0))
    outside = (x > 0) & ~(mean > 0)
    out[outside] = mean[outside]
    return out


def read_inputs(con) -> pd.DataFrame:
    """customer_purchase_summary, the model's inputs."""
    return con.execute("""
        select customer_id, as_of_date, purchases, frequency, recency_days, t_days,
               avg_repeat_revenue_eur, avg_repeat_margin_eur, horizon_months,
               cast(discount_rate_annual as double) as discount_rate_annual
        from marts.customer_purchase_summary
        order by customer_id
    """).df()


def fit(inputs: pd.DataFrame) -> tuple[Outcome, pd.DataFrame]:
    """Fit the models on the inputs (read_inputs) and forecast every customer."""
    frame = inputs.copy()
    as_of = frame["as_of_date"].iloc[0] if len(frame) else None
    outcome = Outcome(as_of.date() if hasattr(as_of, "date") else as_of, len(frame))
    x = frame["frequency"].to_numpy(dtype=float)
    t_x = frame["recency_days"].to_numpy(dtype=float) / model.DAYS_PER_WEEK
    T = frame["t_days"].to_numpy(dtype=float) / model.DAYS_PER_WEEK
    horizon = int(frame["horizon_months"].iloc[0]) if len(frame) else 0
    rate = float(frame["discount_rate_annual"].iloc[0]) if len(frame) else 0.0

    bg_nbd = _fitted(outcome, "bg_nbd", len(frame), lambda: model.fit_bg_nbd(x, t_x, T))
    values = {}
    for name, column in (("gamma_gamma_margin", "avg_repeat_margin_eur"),
                         ("gamma_gamma_revenue", "avg_repeat_revenue_eur")):
        mean = frame[column].to_numpy(dtype=float)
        usable = (x > 0) & (mean > 0)
        gg = _fitted(outcome, name, int(usable.sum()),
                     lambda usable=usable, mean=mean: model.fit_gamma_gamma(x[usable],
                                                                            mean[usable]))
        values[name] = value_per_purchase(gg if gg is not None and gg["q"] > 1 else None,
                                          x, mean)

    nan = np.full(len(frame), np.nan)
    if bg_nbd is not None and bg_nbd.converged:
        alive = model.p_alive(bg_nbd, x, t_x, T)
        purchases = model.expected_purchases(bg_nbd, _weeks(horizon), x, t_x, T)
        year = model.expected_purchases(bg_nbd, _weeks(FORECAST_MONTHS), x, t_x, T)
        clv = discounted_margin(bg_nbd, values["gamma_gamma_margin"], horizon, rate, x, t_x, T)
    else:
        alive, purchases, year, clv = nan, nan, nan, nan
    frame["avg_margin_per_purchase_eur"] = values["gamma_gamma_margin"]
    frame["p_alive"] = alive
    frame["expected_purchases"] = purchases
    frame["expected_revenue_eur"] = purchases * values["gamma_gamma_revenue"]
    frame["expected_margin_eur"] = purchases * values["gamma_gamma_margin"]
    frame["clv_eur"] = clv
    frame["expected_revenue_year_eur"] = year * values["gamma_gamma_revenue"]
    frame["expected_margin_year_eur"] = year * values["gamma_gamma_margin"]
    return outcome, frame


def _weeks(months: int) -> float:
    return months * model.DAYS_PER_MONTH / model.DAYS_PER_WEEK


def _fitted(outcome: Outcome, name: str, customers: int, run) -> model.Fit | None:
    if customers < MIN_CUSTOMERS:
        outcome.not_fitted[name] = (f"{customers} customers to fit on, fewer than "
                                    f"{MIN_CUSTOMERS}")
        return None
    found = run()
    outcome.fits[name] = found
    return found


def model_rows(outcome: Outcome) -> pd.DataFrame:
    """clv_model: one row per fitted model and parameter."""
    rows = []
    for name in MODELS:
        found = outcome.fits.get(name)
        if found is None:
            continue
        for parameter, value in found.parameters.items():
            rows.append({"as_of_date": outcome.as_of_date, "model": name,
                         "parameter": parameter, "value": value,
                         "log_likelihood": found.log_likelihood,
                         "customers": found.customers,
                         "time_unit": "week" if name == "bg_nbd" else None})
    return pd.DataFrame(rows, columns=["as_of_date", "model", "parameter", "value",
                                       "log_likelihood", "customers", "time_unit"])


CLV_SQL = """
    select cast(customer_id as varchar) as customer_id,
           cast(as_of_date as date) as as_of_date,
           cast(purchases as bigint) as purchases,
           cast(frequency as bigint) as frequency,
           cast(recency_days as bigint) as recency_days,
           cast(t_days as bigint) as t_days,
           cast(round(avg_margin_per_purchase_eur, 4) as decimal(18, 4))
               as avg_margin_per_purchase_eur,
           round(p_alive, 6) as p_alive,
           round(expected_purchases, 6) as expected_purchases,
           cast(round(expected_revenue_eur, 4) as decimal(18, 4)) as expected_revenue_eur,
           cast(round(expected_margin_eur, 4) as decimal(18, 4)) as expected_margin_eur,
           cast(round(clv_eur, 4) as decimal(18, 4)) as clv_eur,
           cast(horizon_months as integer) as horizon_months
    from cvm_clv_frame
"""
MODEL_SQL = """
    select cast(as_of_date as date) as as_of_date, cast(model as varchar) as model,
           cast(parameter as varchar) as parameter, cast(value as double) as value,
           cast(log_likelihood as double) as log_likelihood,
           cast(customers as bigint) as customers, cast(time_unit as varchar) as time_unit
    from cvm_clv_model
"""
FORECAST_SQL = """
    select cast(customer_id as varchar) as customer_id,
           cast(as_of_date as date) as as_of_date,
           cast(round(expected_revenue_year_eur, 4) as decimal(18, 4))
               as expected_revenue_year_eur,
           cast(round(expected_margin_year_eur, 4) as decimal(18, 4))
               as expected_margin_year_eur
    from cvm_clv_frame
    where expected_revenue_year_eur is not null and expected_margin_year_eur is not null
"""
EQUITY_COLUMNS = """as_of_date DATE, segment VARCHAR, customers BIGINT,
    clv_eur DECIMAL(18, 4), expected_margin_eur DECIMAL(18, 4), mean_p_alive DOUBLE"""


def write(con, outcome: Outcome, frame: pd.DataFrame) -> None:
    """Write customer_lifetime_value and clv_model into schema marts of `con` (the engine's
    database), and the forecast into purchase_model."""
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists purchase_model")
    con.register("cvm_clv_frame", frame)
    con.register("cvm_clv_model", model_rows(outcome))
    try:
        con.execute(f"create or replace table marts.customer_lifetime_value as {CLV_SQL} "
                    "order by customer_id")
        con.execute(f"create or replace table marts.clv_model as {MODEL_SQL} "
                    "order by model, parameter")
        con.execute(f"create or replace table {FORECAST} as {FORECAST_SQL} "
                    "order by customer_id")
    finally:
        con.unregister("cvm_clv_frame")
        con.unregister("cvm_clv_model")


# the extracts whose extract dates are the deliveries' (stg_deliveries__extracts): an as-of
# date the deliveries allow is one of them, the data_through of that delivery
DELIVERY_ENTITIES = ("customers", "orders", "service_activities")

# customer_purchase_summary as the deliveries up to $as_of knew the order lines: of the raw
# zone's versions delivered by then, the re-delivery rule (macro latest_delivery) keeps one
# per order line; then purchase days and per customer as int_customer_purchase_days and
# customer_purchase_summary build them
SUMMARY_AS_OF_SQL = """
    with delivered as (
        select order_id, line_no, customer_id, cast(order_date as date) as order_date,
               cast(net_revenue_eur as decimal(18, 4)) as net_revenue_eur,
               cast(coalesce(cost_of_goods_eur, 0) as decimal(18, 4)) as cost_of_goods_eur,
               updated_at, extract_date, line_number,
               count(updated_at) over (partition by order_id, line_no) as versions_timestamped,
               count(*) over (partition by order_id, line_no) as versions_delivered
        from raw.orders
        where extract_date <= $as_of
    ),
    ranked as (
        select *, row_number() over (
            partition by order_id, line_no
            order by case when versions_timestamped = versions_delivered then updated_at end
                         desc nulls last,
                     extract_date desc, updated_at desc nulls last, line_number desc
        ) as delivery_rank
        from delivered
    ),
    days as (
        select customer_id, order_date as purchase_date,
               sum(net_revenue_eur) as revenue_eur,
               sum(cast(net_revenue_eur - cost_of_goods_eur as decimal(18, 4)))
                   as contribution_margin_eur
        from ranked
        where delivery_rank = 1
        group by customer_id, order_date
    ),
    numbered as (
        select *, row_number() over (partition by customer_id order by purchase_date)
            as purchase_number
        from days
    ),
    per_customer as (
        select customer_id, min(purchase_date) as first_purchase_date,
               max(purchase_date) as last_purchase_date, count(*) as purchases,
               sum(case when purchase_number > 1 then revenue_eur end) as repeat_revenue_eur,
               sum(case when purchase_number > 1 then contribution_margin_eur end)
                   as repeat_margin_eur
        from numbered
        group by customer_id
    )
    select customer_id, cast($as_of as date) as as_of_date,
           cast(purchases as bigint) as purchases, cast(purchases - 1 as bigint) as frequency,
           cast(date_diff('day', first_purchase_date, last_purchase_date) as bigint)
               as recency_days,
           cast(date_diff('day', first_purchase_date, cast($as_of as date)) as bigint) as t_days,
           cast(repeat_revenue_eur as double) / nullif(purchases - 1, 0)
               as avg_repeat_revenue_eur,
           cast(repeat_margin_eur as double) / nullif(purchases - 1, 0)
               as avg_repeat_margin_eur,
           cast($horizon as integer) as horizon_months,
           cast($rate as double) as discount_rate_annual
    from per_customer
    order by customer_id
"""

EQUITY_SQL = f"""
    select clv.as_of_date, coalesce(value.segment, '{NO_SEGMENT}'), count(*),
           sum(clv.clv_eur), sum(clv.expected_margin_eur), round(avg(clv.p_alive), 6)
    from {{clv}} as clv
    left join marts.customer_value as value
        on value.customer_id = clv.customer_id
        and clv.as_of_date between value.period_start and value.period_end
    group by all
"""


def delivery_dates(con) -> list[dt.date]:
    """The extract dates of the deliveries in the raw zone (raw.<entity> of `con`): the as-of
    dates the deliveries allow, oldest first."""
    union = " union ".join(f"select distinct cast(extract_date as date) as d from raw.{name}"
                           for name in DELIVERY_ENTITIES)
    return [row[0] for row in con.execute(f"select d from ({union}) order by d").fetchall()]


def summary_as_of(con, as_of: dt.date, horizon_months: int,
                  discount_rate_annual: float) -> pd.DataFrame:
    """The purchase model's inputs (read_inputs) as of `as_of`, from the order lines that the
    deliveries up to `as_of` held (SUMMARY_AS_OF_SQL)."""
    return con.execute(SUMMARY_AS_OF_SQL, {"as_of": as_of, "horizon": horizon_months,
                                           "rate": discount_rate_annual}).df()


def _past_dates(con, latest, history: str | None, rebuild: bool) -> tuple[list, set]:
    """The earlier as-of dates to compute, and those whose rows the history keeps."""
    earlier = [d for d in delivery_dates(con) if latest is None or d < latest]
    kept = set()
    if history is not None and not rebuild:
        kept = {row[0] for row in con.execute(
            f"select distinct as_of_date from {history} where as_of_date is distinct from ?",
            [latest]).fetchall()}
    return [d for d in earlier if d not in kept], kept


def _drop_failed(outcome: Outcome, frame: pd.DataFrame) -> None:
    """An earlier date's fit that failed does not stop the load (only this load's own does):
    what depends on a failed model is left empty instead."""
    failed = {line.split(":")[0] for line in outcome.failures}
    if "bg_nbd" in failed:
        frame["p_alive"] = np.nan
    if failed & {"bg_nbd", "gamma_gamma_margin"}:
        frame["clv_eur"] = np.nan
        frame["expected_margin_eur"] = np.nan


def write_equity(con, history: str | None, rebuild: bool = False,
                 echo: Callable[[str], None] | None = None) -> list[dt.date]:
    """Write marts.customer_equity of `con` from customer_lifetime_value and customer_value
    (the module docstring); `history` names the published customer_equity (None: none),
    whose earlier as-of dates are kept unless `rebuild`. Earlier delivery dates without rows
    are computed again, each reported to `echo`. Returns the dates computed again."""
    as_of = con.execute("select max(as_of_date) from marts.customer_purchase_summary"
                        ).fetchone()[0]
    settings = con.execute("select horizon_months, cast(discount_rate_annual as double) "
                           "from marts.customer_purchase_summary limit 1").fetchone()
    todo, kept = _past_dates(con, as_of, history, rebuild)
    if settings is None:
        todo = []  # no purchase at all, nor earlier
    con.execute(f"create or replace temp table cvm_equity ({EQUITY_COLUMNS})")
    if kept:
        con.execute("insert into cvm_equity by name select * from "
                    f"{history} where as_of_date is distinct from ?", [as_of])
    con.execute("insert into cvm_equity "
                + EQUITY_SQL.format(clv="marts.customer_lifetime_value"))
    for number, day in enumerate(todo, 1):
        started = time.perf_counter()
        outcome, frame = fit(summary_as_of(con, day, *settings))
        _drop_failed(outcome, frame)
        con.register("cvm_clv_frame", frame)
        try:
            con.execute("insert into cvm_equity "
                        + EQUITY_SQL.format(clv=f"({CLV_SQL})"))
        finally:
            con.unregister("cvm_clv_frame")
        if echo is not None:
            failed = "; ".join(outcome.failures) or ", ".join(
                f"{name} not fitted" for name in outcome.not_fitted)
            echo(f"  customer_equity as of {day} ({number}/{len(todo)}): "
                 f"{outcome.customers:,} customers, fitted in "
                 f"{time.perf_counter() - started:.2f} s" + (f" ({failed})" if failed else ""))
    con.execute("create or replace table marts.customer_equity as "
                "select * from cvm_equity order by as_of_date, segment")
    return todo


HISTORY = "cvm_published"


def run(store: Store) -> Outcome:
    """Fit on the store's engine's database and write its tables (the module docstring); on
    Spark, hand the forecast to Spark too."""
    con = duckdb.connect(str(store.engine_database))
    try:
        outcome, frame = fit(read_inputs(con))
        con.execute("begin transaction")
        write(con, outcome, frame)
        con.execute("commit")
        if store.engine_kind == "spark":
            spark_engine.write_forecast(store, con)
    finally:
        con.close()
    return outcome


def run_equity(engine_database: Path, next_catalog: Path | None = None,
               rebuild: bool = False, echo: Callable[[str], None] | None = None
               ) -> list[dt.date]:
    """Write customer_equity on the engine's database; the earlier as-of dates come from
    `next_catalog` (the catalog this load will publish, a copy of the published one), when
    it holds them and the load is no rebuild (write_equity). Returns the earlier dates
    computed again."""
    con = duckdb.connect(str(engine_database))
    try:
        history = None
        if next_catalog is not None:
            con.execute(f"attach {sql_literal(next_catalog)} as {HISTORY} (read_only)")
            found = con.execute(
                "select count(*) from information_schema.tables where table_catalog = ? "
                "and table_schema = 'marts' and table_name = 'customer_equity'", [HISTORY],
            ).fetchone()[0]
            history = f"{HISTORY}.marts.customer_equity" if found else None
        con.execute("begin transaction")
        computed = write_equity(con, history, rebuild, echo)
        con.execute("commit")
        if next_catalog is not None:
            con.execute(f"detach {HISTORY}")
    finally:
        con.close()
    return computed
