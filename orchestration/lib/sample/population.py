"""The customer population: attributes, and the rates at which each customer orders and is served.

Revenue weights are the quantiles of a wide lognormal (shuffled): the Pareto-like shape where
roughly a fifth of the customers hold about four fifths of the revenue, for any seed and size."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

REVENUE_SIGMA = 1.6  # top 20 % of a lognormal with this sigma hold about 77 %
MEAN_REVENUE_CENTS = 40_000_000  # 400,000 EUR per customer-year on average
LINES_PER_CUSTOMER_YEAR = 100
ACTIVITIES_PER_CUSTOMER_YEAR = 200
LINES_PER_ORDER = 2.5
NO_VALUE = -(10**18)  # "empty" for an optional money column

STATUS_ACTIVE, STATUS_INACTIVE, STATUS_PROSPECT, STATUS_EMPTY = 0, 1, 2, 3
STATUSES = ["active", "inactive", "prospect", None]

INDUSTRIES = [
    "Maschinenbau", "Lebensmittelindustrie", "Chemie", "Automobilzulieferer",
    "Energieversorgung", "Kunststoffverarbeitung", "Medizintechnik", "Papier & Druck",
    "Wasserwirtschaft", "Baustoffe",
]
COUNTRIES = ["DE", "AT", "CH", "NL", "FR", "PL", "IT", "CZ"]
COUNTRY_P = [0.78, 0.08, 0.06, 0.03, 0.02, 0.01, 0.01, 0.01]
REGIONS_DE = ["Nord", "Süd", "West", "Ost", "Mitte"]
REGIONS = REGIONS_DE + ["Österreich", "Schweiz", "Export"]
FIRST_NAMES = ["Jürgen", "Sabine", "Thomas", "Anna", "Michael", "Katrin", "Stefan", "Julia",
               "Peter", "Ute", "Jörg", "Bärbel"]
LAST_NAMES = ["Weiß", "Müller", "Groß", "Schröder", "Köhler", "Fuß", "Bäcker", "Neumann",
              "Schäfer", "Krüger", "Strauß", "Hoffmann", "Böhm", "Jäger"]
NAME_STEMS = ["Müller", "Schneider", "Weißenberger", "Groß", "Köhler", "Bräuer", "Strauß",
              "Hoffmann", "Günther", "Lößl", "Wagner", "Becker", "Schäfer", "Zöllner", "Fischer",
              "Krämer", "Vogt", "Hüttenwerk Nord", "Rheintal", "Alpenländische"]
NAME_FORMS = ["GmbH", "GmbH & Co. KG", "AG", "Maschinenbau GmbH", "Präzisionstechnik GmbH",
              "Lebensmittelwerke AG", "Kunststoffwerk GmbH", "& Söhne, Anlagenbau",
              "Energie GmbH", "Verpackungen GmbH", "Gießerei KG", "Medizintechnik, Zweigwerk Süd"]


@dataclass
class Population:
    """One row per customer (index i is customer id i+1); days are day numbers."""

    since: np.ndarray
    status: np.ndarray
    industry: np.ndarray
    country: np.ndarray
    region: np.ndarray
    manager: np.ndarray
    name_stem: np.ndarray
    name_form: np.ndarray
    potential_cents: np.ndarray
    updated_at: np.ndarray  # seconds, -1 = empty
    first_day: np.ndarray  # first day with orders/activities (inclusive)
    last_day: np.ndarray  # last day with orders/activities (inclusive); < first_day = none
    order_rate: np.ndarray  # orders per year
    line_value_cents: np.ndarray  # mean line value
    growth: np.ndarray  # yearly revenue growth (log)
    activity_rate: np.ndarray  # activities per year
    is_problem: np.ndarray
    account_managers: list[str]

    @property
    def size(self) -> int:
        return len(self.since)


def _revenue_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    """Shuffled lognormal quantiles with a little noise: the shape holds for small n too."""
    normal = NormalDist()
    z = np.array([normal.inv_cdf((i + 0.5) / n) for i in range(n)])  # once per customer
    return np.exp(REVENUE_SIGMA * z[rng.permutation(n)]) * rng.lognormal(0.0, 0.15, n)


def build_population(rng: np.random.Generator, n: int, window_start: int, end_day: int
                     ) -> Population:
    """Customers for a history window [window_start, end_day) (day numbers)."""
    last = end_day - 1
    weights = _revenue_weights(rng, n)
    # the biggest fifth are long-standing, active accounts
    top = weights >= np.quantile(weights, 0.8)

    # customer_since: long-standing, arriving during the window, or within the last 12 months
    kind = rng.choice(3, size=n, p=[0.66, 0.27, 0.07])
    old_since = window_start - rng.integers(30, 30 * 365, n)
    window_since = rng.integers(window_start, max(window_start + 1, last - 365), n)
    recent_since = rng.integers(last - 364, last + 1, n)
    kind = np.where(top, 0, kind)
    since = np.select([kind == 0, kind == 1], [old_since, window_since], recent_since)

    status = rng.choice(4, size=n, p=[0.87, 0.05, 0.04, 0.04])
    status[(kind == 2) & (status == STATUS_INACTIVE)] = STATUS_ACTIVE
    status[top & (status != STATUS_EMPTY)] = STATUS_ACTIVE
    is_prospect = status == STATUS_PROSPECT
    is_inactive = status == STATUS_INACTIVE

    first_day = np.maximum(since, window_start)
    churn = rng.integers(window_start, last + 1, n)
    last_day = np.where(is_inactive, churn, last)

    # the article's problem group: heavily served, low revenue (from the lower half)
    low_half = np.flatnonzero((weights <= np.median(weights)) & ~is_prospect & ~is_inactive)
    problem = np.zeros(n, dtype=bool)
    problem[rng.choice(low_half, size=min(len(low_half), max(1, round(0.1 * n))),
                       replace=False)] = True

    revenue_factor = np.where(kind == 2, rng.uniform(0.08, 0.25, n), 1.0)
    revenue_factor = np.where(problem, revenue_factor * 0.4, revenue_factor)
    revenue_factor = np.where(is_prospect, 0.0, revenue_factor)

    span_years = np.clip(last_day - first_day + 1, 0, None) / 365.25
    window_years = (end_day - window_start) / 365.25

    lines = weights ** 0.5 * np.where(revenue_factor > 0, 1.0, 0.0)
    lines *= LINES_PER_CUSTOMER_YEAR * n * window_years / max((lines * span_years).sum(), 1e-9)
    revenue = MEAN_REVENUE_CENTS * weights / weights.mean() * revenue_factor
    line_value = np.where(lines > 0, revenue / np.maximum(lines, 1e-9), 0.0)

    served = weights ** 0.45 * rng.lognormal(0.0, 0.4, n)
    served = np.where(problem, served * 6.0, served)
    served = np.where(is_prospect, served * 0.15, served)
    served *= ACTIVITIES_PER_CUSTOMER_YEAR * n * window_years / max((served * span_years).sum(),
                                                                       1e-9)

    full_revenue = MEAN_REVENUE_CENTS * weights / weights.mean()
    potential = full_revenue * np.where(kind == 2, rng.uniform(2.0, 5.0, n),
                                        rng.uniform(1.1, 3.0, n))
    potential = np.where(problem, full_revenue * rng.uniform(0.8, 2.0, n), potential)
    potential = np.round(potential / 100_000).astype(np.int64) * 100_000  # whole 1,000 EUR
    potential = np.where(rng.random(n) < 0.03, NO_VALUE, potential)

    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P)
    region = np.select(
        [country == 0, country == 1, country == 2],
        [rng.integers(0, len(REGIONS_DE), n), np.full(n, 5), np.full(n, 6)], 7,
    )
    managers = [f"{f} {ln}" for ln in LAST_NAMES for f in FIRST_NAMES]
    manager_count = int(np.clip(n // 150, 4, len(managers)))
    manager_pick = rng.permutation(len(managers))[:manager_count]
    account_managers = [managers[i] for i in sorted(manager_pick)]
    # the day of the last change, then a time in office hours (never in the hour a change of
    # summer time skips or repeats at night)
    changed_on = np.minimum(np.maximum(since, window_start) + rng.integers(0, 200, n),
                            end_day - 1 - rng.integers(0, 30, n))
    updated_at = changed_on * 86400 + rng.integers(7 * 3600, 19 * 3600, n)
    updated_at = np.where(rng.random(n) < 0.05, -1, updated_at)

    return Population(
        since=since.astype(np.int64),
        status=status,
        industry=rng.integers(0, len(INDUSTRIES), n),
        country=country,
        region=region,
        manager=rng.integers(0, manager_count, n),
        name_stem=rng.integers(0, len(NAME_STEMS), n),
        name_form=rng.integers(0, len(NAME_FORMS), n),
        potential_cents=potential,
        updated_at=updated_at,
        first_day=first_day.astype(np.int64),
        last_day=last_day.astype(np.int64),
        order_rate=lines / LINES_PER_ORDER,
        line_value_cents=line_value,
        growth=rng.normal(0.03, 0.06, n),
        activity_rate=served,
        is_problem=problem,
        account_managers=account_managers,
    )
