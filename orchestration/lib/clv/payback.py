"""The return on value transfer per period and segment: `marts.segment_payback`, written
beside the dbt marts from `marts.value_transfer_payback`.

Runs once per load, after dbt built and checked the marts and before publishing, under the
writer's lock, on the engine's database (on Spark its DuckDB mirror), and writes to its
schema `marts`, from where publishing exports it like every other mart. It is computed in
Python, not in SQL, because of its bootstrap: the random draws of a SQL engine differ from
one engine to the next, numpy's with a fixed seed do not.

One row per period t (with a following period t + 1) and segment of t:

- `customers`, the sums of `value_transfer_eur` (in t) and of `margin_change_eur` (t to
  t + 1), and `payback_ratio`, the sum of the change per euro of value transfer (null when
  the segment gave nothing away);
- the comparison within the segment's classic-value band (`classic_value_level`, the axis
  the segments split at the period's threshold): the mean margin change of the band's
  customers with high value transfer minus that of those with low value transfer (the band's
  two segments: invest - develop for high classic value, renegotiate - opportunistic for
  low), with a percentile bootstrap interval. Both segments of a band carry the same
  comparison.

The bootstrap: BOOTSTRAP_RESAMPLES times, each group is resampled with replacement to its
own size and the difference of the two means taken; the interval is the CONFIDENCE_LEVEL
percentile interval of these differences (numpy's linear quantiles). Every comparison draws
from its own generator `numpy.random.default_rng(BOOTSTRAP_SEED)`, over its customers in
`customer_id` order, so the same data give the same numbers, whatever other periods the
warehouse holds. A group of fewer than MIN_GROUP customers gives no interval (null); an
empty group no difference either.

All of this is an association over the data, not proof that the value transfer caused the
change in margin: customers who get more services differ in other ways too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

TABLES = ("segment_payback",)
BOOTSTRAP_SEED = 20_261_204
BOOTSTRAP_RESAMPLES = 2_000
CONFIDENCE_LEVEL = 0.95
MIN_GROUP = 2  # customers per group for an interval
CHUNK = 250  # resamples drawn at once (bounded memory at 20,000 customers)


class Comparison(NamedTuple):
    """High minus low value transfer within one classic-value band of one period."""

    high_customers: int
    low_customers: int
    difference: float | None  # mean change of the high group - mean of the low group
    low_bound: float | None
    high_bound: float | None


def bootstrap_difference(high, low, seed: int = BOOTSTRAP_SEED,
                         resamples: int = BOOTSTRAP_RESAMPLES,
                         level: float = CONFIDENCE_LEVEL) -> Comparison:
    """The difference of the means of `high` and `low` (their values in a fixed order) with
    its percentile bootstrap interval (the module docstring)."""
    high = np.asarray(high, dtype=float)
    low = np.asarray(low, dtype=float)
    if high.size == 0 or low.size == 0:
        return Comparison(high.size, low.size, None, None, None)
    difference = float(high.mean() - low.mean())
    if high.size < MIN_GROUP or low.size < MIN_GROUP:
        return Comparison(high.size, low.size, difference, None, None)
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        high_means = high[rng.integers(0, high.size, (size, high.size))].mean(axis=1)
        low_means = low[rng.integers(0, low.size, (size, low.size))].mean(axis=1)
        draws.append(high_means - low_means)
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(np.concatenate(draws), [tail, 1.0 - tail])
    return Comparison(high.size, low.size, difference, float(lower), float(upper))


def read_rows(con) -> pd.DataFrame:
    """marts.value_transfer_payback, the columns the summary needs, in customer order."""
    return con.execute("""
        select period_start, period_end, next_period_start, is_next_period_complete,
               segment, classic_value_level, value_transfer_level, customer_id,
               cast(value_transfer_eur as double) as value_transfer_eur,
               cast(margin_change_eur as double) as margin_change_eur
        from marts.value_transfer_payback
        order by period_start, customer_id
    """).df()


def summarise(rows: pd.DataFrame, seed: int = BOOTSTRAP_SEED,
              resamples: int = BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """segment_payback's rows (the module docstring) of value_transfer_payback's `rows`."""
    out = []
    keys = ["period_start", "period_end", "next_period_start", "is_next_period_complete"]
    for _, in_period in rows.groupby(keys[0], sort=True):
        first = in_period.iloc[0]
        comparisons = {}
        for band, in_band in in_period.groupby("classic_value_level"):
            in_band = in_band.sort_values("customer_id")
            changes = in_band["margin_change_eur"]
            comparisons[band] = bootstrap_difference(
                changes[in_band["value_transfer_level"] == "high"],
                changes[in_band["value_transfer_level"] == "low"], seed, resamples)
        for segment, mine in in_period.groupby("segment", sort=True):
            band = mine["classic_value_level"].iloc[0]
            compared = comparisons[band]
            # sums of values with at most 4 decimals, rounded back to them
            transfer = round(float(mine["value_transfer_eur"].sum()), 4)
            change = round(float(mine["margin_change_eur"].sum()), 4)
            out.append({
                **{key: first[key] for key in keys},
                "segment": segment,
                "classic_value_level": band,
                "value_transfer_level": mine["value_transfer_level"].iloc[0],
                "customers": len(mine),
                "value_transfer_eur": transfer,
                "margin_change_eur": change,
                "payback_ratio": change / transfer if transfer else None,
                "mean_margin_change_eur": change / len(mine),
                "band_high_transfer_customers": compared.high_customers,
                "band_low_transfer_customers": compared.low_customers,
                "band_difference_eur": compared.difference,
                "band_difference_low_eur": compared.low_bound,
                "band_difference_high_eur": compared.high_bound,
                "confidence_level": CONFIDENCE_LEVEL,
                "bootstrap_resamples": resamples,
                "bootstrap_seed": seed,
            })
    return pd.DataFrame(out, columns=[*keys, *COLUMNS[4:]])


COLUMNS = ("period_start", "period_end", "next_period_start", "is_next_period_complete",
           "segment", "classic_value_level", "value_transfer_level", "customers",
           "value_transfer_eur", "margin_change_eur", "payback_ratio",
           "mean_margin_change_eur", "band_high_transfer_customers",
           "band_low_transfer_customers", "band_difference_eur", "band_difference_low_eur",
           "band_difference_high_eur", "confidence_level", "bootstrap_resamples",
           "bootstrap_seed")

TABLE_SQL = """
    create or replace table marts.segment_payback (
        period_start DATE, period_end DATE, next_period_start DATE,
        is_next_period_complete BOOLEAN, segment VARCHAR, classic_value_level VARCHAR,
        value_transfer_level VARCHAR, customers BIGINT, value_transfer_eur DECIMAL(18, 4),
        margin_change_eur DECIMAL(18, 4), payback_ratio DOUBLE,
        mean_margin_change_eur DECIMAL(18, 4), band_high_transfer_customers BIGINT,
        band_low_transfer_customers BIGINT, band_difference_eur DECIMAL(18, 4),
        band_difference_low_eur DECIMAL(18, 4), band_difference_high_eur DECIMAL(18, 4),
        confidence_level DOUBLE, bootstrap_resamples INTEGER, bootstrap_seed BIGINT)
"""


def _cast(column: str) -> str:
    if column.endswith(("_start", "_end")):
        return f"cast({column} as date)"
    if column == "payback_ratio":
        return f"round({column}, 6)"
    return f"round({column}, 4)" if column.endswith("_eur") else column


def write(con, summary: pd.DataFrame) -> None:
    """Replace marts.segment_payback of `con` (the engine's database) by `summary`."""
    con.execute("create schema if not exists marts")
    con.execute(TABLE_SQL)
    if summary.empty:
        return
    con.register("cvm_segment_payback", summary)
    try:
        con.execute(f"""
            insert into marts.segment_payback
            select {", ".join(_cast(c) for c in COLUMNS)}
            from cvm_segment_payback
            order by period_start, segment
        """)
    finally:
        con.unregister("cvm_segment_payback")


def reconciliation_failures(con) -> list[str]:
    """What does not add up between marts.segment_payback and marts.value_transfer_payback:
    per period and segment the customers and both sums, and every interval around its
    difference. Empty when all agree."""
    found = [f"{period} {segment}: segment_payback {mine} customers, value transfer "
             f"{transfer}, margin change {change}; value_transfer_payback {theirs}"
             for period, segment, mine, transfer, change, theirs in con.execute("""
        with source as (
            select period_start, segment, count(*) as customers,
                   sum(value_transfer_eur) as value_transfer_eur,
                   sum(margin_change_eur) as margin_change_eur
            from marts.value_transfer_payback
            group by period_start, segment
        )
        select coalesce(s.period_start, p.period_start)::varchar,
               coalesce(s.segment, p.segment), p.customers, p.value_transfer_eur,
               p.margin_change_eur,
               s.customers || ' customers, value transfer ' || s.value_transfer_eur
                   || ', margin change ' || s.margin_change_eur
        from source as s
        full join marts.segment_payback as p
            on s.period_start = p.period_start and s.segment = p.segment
        where s.customers is distinct from p.customers
            or s.value_transfer_eur is distinct from p.value_transfer_eur
            or s.margin_change_eur is distinct from p.margin_change_eur
        order by 1, 2
    """).fetchall()]
    found += [f"{period} {segment}: the interval {low} to {high} around the difference "
              f"{difference} is empty or has no difference"
              for period, segment, difference, low, high in con.execute("""
        select period_start::varchar, segment, band_difference_eur, band_difference_low_eur,
               band_difference_high_eur
        from marts.segment_payback
        where band_difference_low_eur > band_difference_high_eur
            or (band_difference_low_eur is not null and band_difference_eur is null)
        order by 1, 2
    """).fetchall()]
    return found


@dataclass(frozen=True)
class Outcome:
    periods: int
    rows: int
    failures: list[str]


def run(engine_database: Path, seed: int = BOOTSTRAP_SEED,
        resamples: int = BOOTSTRAP_RESAMPLES) -> Outcome:
    """Summarise the engine's marts.value_transfer_payback into marts.segment_payback, in one
    transaction, and reconcile the two."""
    con = duckdb.connect(str(engine_database))
    try:
        summary = summarise(read_rows(con), seed, resamples)
        con.execute("begin transaction")
        write(con, summary)
        con.execute("commit")
        failures = reconciliation_failures(con)
    finally:
        con.close()
    return Outcome(summary["period_start"].nunique(), len(summary), failures)
