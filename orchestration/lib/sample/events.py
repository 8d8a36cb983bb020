"""Order lines and service activities for a block of customers, as columns of numpy arrays.

Everything is vectorised: counts per customer are drawn at once, exploded with np.repeat, and
every attribute is drawn for the whole block. Dates are day numbers, timestamps seconds."""

from __future__ import annotations

import numpy as np

from orchestration.lib.sample.population import Population
from orchestration.lib.sample.reference import Catalogue, Prices

PRODUCT_GROUPS = ["Pumpen", "Ventile", "Antriebe", "Sensorik", "Steuerungen", "Ersatzteile",
                  "Verschleißteile", "Zubehör"]
PRODUCT_P = [0.18, 0.17, 0.14, 0.12, 0.1, 0.14, 0.1, 0.05]
STATUS_DONE, STATUS_CANCELLED, STATUS_EMPTY = 0, 1, 2
ACTIVITY_STATUSES = ["done", "cancelled", None]
FREE, DISCOUNTED, BILLED = 0, 1, 2


def _spread_days(rng, lo: np.ndarray, hi: np.ndarray, counts: np.ndarray, workdays: bool):
    """`counts[i]` random days in [lo[i], hi[i]] per customer, weekends moved to a workday."""
    owner = np.repeat(np.arange(len(counts)), counts)
    span = (hi - lo + 1)[owner]
    day = lo[owner] + np.floor(rng.random(len(owner)) * span).astype(np.int64)
    if workdays:
        weekday = (day + 3) % 7  # 0 = Monday
        day = np.where(weekday == 5, day - 1, np.where(weekday == 6, day - 2, day))
        day = np.maximum(day, lo[owner])
    return owner, day


def _events(rng, rate_per_year: np.ndarray, customers: np.ndarray, lo: np.ndarray,
            hi: np.ndarray, workdays: bool) -> tuple[np.ndarray, np.ndarray]:
    """Events of `customers` at their yearly rates between lo and hi: (customer, day) of
    each, ordered by day, then customer."""
    years = np.clip(hi - lo + 1, 0, None) / 365.25
    counts = rng.poisson(rate_per_year[customers] * years)
    owner, day = _spread_days(rng, lo, hi, counts, workdays)
    order = np.lexsort((owner, day))
    return customers[owner[order]], day[order]


def _logged_at(rng, day: np.ndarray, deadline: int, max_lag_days: int) -> np.ndarray:
    """A time on the day (or a few days later) during office hours, before `deadline` (sec)."""
    lag = np.where(rng.random(len(day)) < 0.8, 0, rng.integers(0, max_lag_days + 1, len(day)))
    seconds = (day + lag) * 86400 + rng.integers(7 * 3600, 19 * 3600, len(day))
    same_day = day * 86400 + rng.integers(7 * 3600, 19 * 3600, len(day))
    return np.where(seconds < deadline, seconds, np.minimum(same_day, deadline - 1))


def order_lines(rng, pop: Population, customers: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                deadline: int, growth_origin: int, workdays: bool = True) -> dict:
    """Order lines of `customers` (indices) between lo and hi (inclusive day numbers).

    Revenue grows by the customer's yearly rate around `growth_origin` (a day number)."""
    cust, day = _events(rng, pop.order_rate, customers, lo, hi, workdays)
    n_lines = 1 + rng.poisson(LINES_PER_ORDER_EXTRA, len(day))
    order = np.repeat(np.arange(len(day)), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(len(order)) - starts[order] + 1
    cust_line = cust[order]
    day_line = day[order]
    years_in = (day_line - growth_origin) / 365.25
    value = pop.line_value_cents[cust_line] * np.exp(pop.growth[cust_line] * years_in)
    value = value * rng.lognormal(-0.32, 0.8, len(order))  # mean-preserving noise
    revenue = np.maximum(np.round(value), 500).astype(np.int64)
    cogs = np.round(revenue * rng.uniform(0.5, 0.8, len(order))).astype(np.int64)
    return {
        "order": order.astype(np.int64),
        "line_no": line_no.astype(np.int64),
        "customer": cust_line.astype(np.int64) + 1,
        "order_date": day_line,
        "product_group": rng.choice(len(PRODUCT_GROUPS), size=len(order), p=PRODUCT_P),
        "revenue": revenue,
        "cogs": cogs,
        "updated_at": np.repeat(_logged_at(rng, day, deadline, 3), n_lines),
    }


LINES_PER_ORDER_EXTRA = 1.5


def _cumulative(weights: list[float]) -> np.ndarray:
    cum = np.cumsum(np.asarray(weights, dtype=float))
    return cum / cum[-1]


def _pick_within(rng, starts: np.ndarray, counts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """A uniform index in [starts[g], starts[g] + counts[g]) per row of group g."""
    return starts[group] + np.floor(rng.random(len(group)) * counts[group]).astype(np.int64)


class ActivityShapes:
    """The catalogue's profiles flattened into arrays, for vectorised lookups."""

    def __init__(self, catalogue: Catalogue):
        profiles = catalogue.profiles
        self.codes = catalogue.codes
        self.cum_normal = _cumulative([p.weight for p in profiles])
        self.cum_problem = _cumulative([p.weight_problem for p in profiles])
        self.min_lo = np.array([p.minutes[0] for p in profiles])
        self.min_hi = np.array([p.minutes[1] for p in profiles])
        self.min_step = np.array([p.minutes[2] for p in profiles])
        self.part_lo = np.array([p.participants[0] for p in profiles])
        self.part_hi = np.array([p.participants[1] for p in profiles])
        self.departments = sorted({p.department for p in profiles})
        self.department = np.array([self.departments.index(p.department) for p in profiles])
        self.channels, self.chan_start, self.chan_count = _flatten([p.channels for p in profiles])
        self.descriptions, self.desc_start, self.desc_count = _flatten(
            [p.descriptions for p in profiles])
        self.is_billed_service = catalogue.is_billed_service
        self.fallback = self.codes.index("REPAIR") if "REPAIR" in self.codes else 0
        # employees: a small pool per department
        self.emp_count = np.full(len(self.departments), 12)
        self.emp_start = np.arange(len(self.departments)) * 100 + 100


def _flatten(groups: list[tuple[str, ...]]):
    flat: list[str] = []
    starts, counts = [], []
    for group in groups:
        starts.append(len(flat))
        counts.append(len(group))
        flat.extend(group)
    return flat, np.array(starts), np.array(counts)


# probabilities of free / discounted / billed
BILLING_VALUE_ADDED = [0.86, 0.11, 0.03]
BILLING_PROBLEM = [0.97, 0.03, 0.0]
BILLING_BILLED_SERVICE = [0.10, 0.06, 0.84]


def activities(rng, pop: Population, shapes: ActivityShapes, prices: Prices,
               customers: np.ndarray, lo: np.ndarray, hi: np.ndarray, deadline: int,
               workdays: bool = True, cover_all_types: bool = False) -> dict:
    """Service activities of `customers` between lo and hi (inclusive day numbers).

    With cover_all_types, the first rows take any catalogue type that was not drawn, so that
    even a tiny sample holds every type."""
    cust, day = _events(rng, pop.activity_rate, customers, lo, hi, workdays)
    n = len(day)
    problem = pop.is_problem[cust]

    u = rng.random(n)
    stype = np.where(problem, np.searchsorted(shapes.cum_problem, u, side="right"),
                     np.searchsorted(shapes.cum_normal, u, side="right"))
    stype = np.minimum(stype, len(shapes.codes) - 1)
    # a type without a rate yet (FIELD_SERVICE before its first rate) is rare
    unpriced = ~prices.priced(stype, day)
    stype = np.where(unpriced & (rng.random(n) > 0.03), shapes.fallback, stype)
    if cover_all_types:
        missing = np.setdiff1d(np.arange(len(shapes.codes)), stype)[:n]
        stype[: len(missing)] = missing

    steps = (shapes.min_hi - shapes.min_lo) // shapes.min_step + 1
    minutes = shapes.min_lo[stype] + shapes.min_step[stype] * np.floor(
        rng.random(n) * steps[stype]).astype(np.int64)
    participants = shapes.part_lo[stype] + np.floor(
        rng.random(n) * (shapes.part_hi - shapes.part_lo + 1)[stype]).astype(np.int64)
    department = shapes.department[stype]

    # the list price; -1 where the type has no rate yet
    price = np.where(prices.priced(stype, day),
                     prices.list_price_cents(stype, minutes, np.maximum(participants, 1)), -1)
    billed_service = shapes.is_billed_service[stype]
    u = rng.random(n)
    kind = np.where(billed_service, np.searchsorted(np.cumsum(BILLING_BILLED_SERVICE), u),
                    np.where(problem, np.searchsorted(np.cumsum(BILLING_PROBLEM), u),
                             np.searchsorted(np.cumsum(BILLING_VALUE_ADDED), u)))
    kind = np.where((kind == DISCOUNTED) & (price < 2), FREE, kind)
    share = rng.uniform(0.2, 0.85, n)
    markup = rng.uniform(1.0, 1.3, n)
    flat_price = minutes * 200 + 9000  # an invoice where no standard rate exists
    billed = np.select(
        [kind == FREE, (kind == DISCOUNTED) & (price >= 2), price >= 0],
        [0, np.clip(np.floor(price * share), 1, price - 1), np.ceil(price * markup)],
        flat_price,
    ).astype(np.int64)

    return {
        "customer": cust.astype(np.int64) + 1,
        "service_type": stype.astype(np.int64),
        "activity_date": day,
        "minutes": minutes.astype(np.int64),
        "participants": participants.astype(np.int64),
        "employee": _pick_within(rng, shapes.emp_start, shapes.emp_count, department),
        "department": department.astype(np.int64),
        "channel": _pick_within(rng, shapes.chan_start, shapes.chan_count, stype),
        "billed": billed,
        "description": _pick_within(rng, shapes.desc_start, shapes.desc_count, stype),
        "status": np.where(rng.random(n) < 0.03, STATUS_EMPTY, STATUS_DONE),
        "updated_at": _logged_at(rng, day, deadline, 2),
    }


def take(columns: dict, rows: np.ndarray) -> dict:
    return {name: values[rows] for name, values in columns.items()}


def concat(parts: list[dict]) -> dict:
    parts = [p for p in parts if p]
    if not parts:
        return {}
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
