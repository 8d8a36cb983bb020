"""Sample extract generator: dated landing folders with customers, orders and service activities.

`generate_sample` writes an initial history delivery (dated `end_date`) and `deltas` nightly
deltas after it. Data is drawn with numpy per block of customers and formatted and written by
DuckDB, so memory stays bounded and no Python code runs per row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.ingest.spec import ENTITIES, SPECS
from orchestration.lib.progress import Progress
from orchestration.lib.sample import events, faults
from orchestration.lib.sample.csvout import (
    CsvFile,
    Dialect,
    get_dialect,
    py_timestamp,
    sql_date,
    sql_integer,
    sql_money,
    sql_timestamp,
)
from orchestration.lib.sample.population import (
    COUNTRIES,
    INDUSTRIES,
    NAME_FORMS,
    NAME_STEMS,
    NO_VALUE,
    REGIONS,
    STATUS_INACTIVE,
    STATUSES,
    Population,
    build_population,
)
from orchestration.lib.sample.reference import day_number, load_catalogue, load_prices

ROWS_PER_BLOCK = 1_000_000  # activities per block of customers, roughly
RECENT_DAYS = 90  # corrections and cancellations concern the last three months
CORRECTION_P = {"orders": 0.005, "service_activities": 0.01}
UNKNOWN_OFFSET, FAULT_OFFSET, NEVER_OFFSET = 100_000, 200_000, 300_000


def _customer_id(number: int) -> str:
    return f"K{number:06d}"


# ---- SQL expressions per column, over the integer columns of a chunk --------------------

def _word(words: str, index: str) -> str:
    """The word of the list parameter `$words` at the chunk's 0-based column `index` (DuckDB's
    lists count from 1)."""
    return f"${words}[{index} + 1]"


def _customer_sql(number: str) -> str:
    """The customer id of the column `number`, as _customer_id writes it."""
    return f"format('K{{:06d}}', {number})"


def customers_columns(d: Dialect) -> dict[str, str]:
    return {
        "customer_id": _customer_sql("cid"),
        "customer_name": _word("stems", "stem") + " || ' ' || " + _word("forms", "form"),
        "industry": _word("industries", "industry"),
        "region": _word("regions", "region"),
        "account_manager": _word("managers", "manager"),
        "country_code": _word("countries", "country"),
        "customer_since": sql_date("since", d),
        "annual_potential_eur": sql_money("potential", d, nullable=True),
        "status": _word("statuses", "status"),
        "updated_at": sql_timestamp("updated_at", d),
    }


def orders_columns(d: Dialect) -> dict[str, str]:
    return {
        "order_id": _word("prefixes", "prefix") + " || format('{:08d}', order_no)",
        "line_no": "line_no::VARCHAR",
        "customer_id": _customer_sql("customer"),
        "order_date": sql_date("order_date", d),
        "product_group": _word("groups", "product_group"),
        "net_revenue_eur": sql_money("revenue", d),
        "cost_of_goods_eur": sql_money("cogs", d),
        "updated_at": sql_timestamp("updated_at", d),
    }


def activities_columns(d: Dialect) -> dict[str, str]:
    return {
        "activity_id": "format('SA{:09d}', activity_no)",
        "customer_id": _customer_sql("customer"),
        "service_type_code": _word("codes", "service_type"),
        "activity_date": sql_date("activity_date", d),
        "duration_minutes": sql_integer("minutes", d),
        "participants": "CASE WHEN participants > 0 THEN participants::VARCHAR END",
        "employee_id": "format('E{:04d}', employee)",
        "department": _word("departments", "department"),
        "channel": _word("channels", "channel"),
        "billed_amount_eur": sql_money("billed", d),
        "description": _word("descriptions", "description"),
        "status": _word("statuses", "status"),
        "updated_at": sql_timestamp("updated_at", d),
    }


# ---- the generator ------------------------------------------------------------------------

class _Sample:
    """State shared by the deliveries of one sample: population, counters, pending changes."""

    def __init__(self, out: Path, customers: int, years: int, seed: int, dialect: Dialect,
                 with_errors: bool, end_date: date, deltas: int, progress):
        self.out, self.seed, self.dialect = out, seed, dialect
        self.with_errors, self.deltas, self.end_date = with_errors, deltas, end_date
        self.progress = progress
        self.end_day = day_number(end_date)
        self.window_start = day_number(date(end_date.year - years + 1, 1, 1))
        self.growth_origin = (self.window_start + self.end_day) // 2
        catalogue = load_catalogue()
        self.prices = load_prices(catalogue.codes)
        self.shapes = events.ActivityShapes(catalogue)
        self.pop: Population = build_population(
            self._rng(0), customers, self.window_start, self.end_day)
        self.n = customers
        self.next_order_no = 1
        self.next_activity_no = 1
        self.next_fault_customer = customers + FAULT_OFFSET + 1
        self.pending: dict[str, list[dict]] = {"orders": [], "service_activities": []}
        self.summary: dict = {"folders": [], "files": {}}
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        self.params = {
            "stems": NAME_STEMS, "forms": NAME_FORMS, "industries": INDUSTRIES,
            "regions": REGIONS, "managers": self.pop.account_managers, "countries": COUNTRIES,
            "statuses": STATUSES, "prefixes": ["SO", "GS"], "groups": events.PRODUCT_GROUPS,
            "codes": self.shapes.codes, "departments": self.shapes.departments,
            "channels": self.shapes.channels, "descriptions": self.shapes.descriptions,
            "act_statuses": events.ACTIVITY_STATUSES,
        }

    def _rng(self, *stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *stream])

    def _params(self, *names: str) -> dict:
        return {name: self.params[name] for name in names}

    # -- files ---------------------------------------------------------------------------
    def _open(self, folder: Path, entity: str, bom: bool = False) -> CsvFile:
        return CsvFile(folder / f"{entity}.csv", SPECS[entity].column_names, self.dialect, bom=bom)

    def _close(self, file: CsvFile) -> None:
        rows = file.close()
        name = f"{file.path.parent.name}/{file.path.name}"
        self.summary["files"][name] = rows
        if self.progress is not None:
            self.progress.line(f"wrote {file.path} ({rows:,} rows)")

    def _write_orders(self, file: CsvFile, cols: dict) -> None:
        if not cols:
            return
        frame = pd.DataFrame({
            "prefix": cols.get("prefix", np.zeros(len(cols["order_no"]), dtype=np.int64)),
            **{k: cols[k] for k in ("order_no", "line_no", "customer", "order_date",
                                    "product_group", "revenue", "cogs", "updated_at")},
        })
        file.write_chunk(self.con, frame, orders_columns(self.dialect),
                         self._params("prefixes", "groups"))

    def _write_activities(self, file: CsvFile, cols: dict) -> None:
        if not cols:
            return
        params = self._params("codes", "departments", "channels", "descriptions")
        params["statuses"] = self.params["act_statuses"]
        file.write_chunk(self.con, pd.DataFrame(cols), activities_columns(self.dialect), params)

    def _write_customers(self, file: CsvFile, pop: Population, extra: pd.DataFrame | None):
        frame = pd.DataFrame({
            "cid": np.arange(1, pop.size + 1), "stem": pop.name_stem, "form": pop.name_form,
            "industry": pop.industry, "region": pop.region, "manager": pop.manager,
            "country": pop.country, "since": pop.since, "potential": pop.potential_cents,
            "status": pop.status, "updated_at": pop.updated_at,
        })
        if extra is not None:
            frame = pd.concat([frame, extra], ignore_index=True)
        file.write_chunk(self.con, frame, customers_columns(self.dialect),
                         self._params("stems", "forms", "industries", "regions", "managers",
                                      "countries", "statuses"))

    # -- numbering and corrections ---------------------------------------------------------
    def _number(self, cols: dict, entity: str) -> dict:
        if entity == "orders":
            cols["order_no"] = cols.pop("order") + self.next_order_no
            self.next_order_no = int(cols["order_no"].max()) + 1 if len(cols["order_no"]) \
                else self.next_order_no
        else:
            count = len(cols["customer"])
            cols = {"activity_no": np.arange(self.next_activity_no,
                                             self.next_activity_no + count), **cols}
            self.next_activity_no += count
        return cols

    def _stash(self, rng, cols: dict, entity: str, date_col: str, after_delta: int) -> None:
        """Keep a few recent rows to correct or cancel in a later delta."""
        if after_delta >= self.deltas or not len(cols[date_col]):
            return
        recent = cols[date_col] >= self.end_day - RECENT_DAYS
        chosen = np.flatnonzero(recent & (rng.random(len(recent)) < CORRECTION_P[entity]))
        target = rng.integers(after_delta + 1, self.deltas + 1, len(chosen))
        for delta in np.unique(target):
            rows = events.take(cols, chosen[target == delta])
            rows["_delta"] = np.full(len(chosen[target == delta]), delta)
            self.pending[entity].append(rows)

    def _pending_for(self, entity: str, delta: int) -> dict:
        parts = [events.take(p, p["_delta"] == delta) for p in self.pending[entity]]
        cols = events.concat([p for p in parts if len(p["_delta"])])
        cols.pop("_delta", None)
        return cols

    # -- blocks of customers ---------------------------------------------------------------
    def _blocks(self) -> Iterator[np.ndarray]:
        years = (self.end_day - self.window_start) / 365.25
        per_block = max(1, int(ROWS_PER_BLOCK / (events_per_customer_year() * years)))
        for start in range(0, self.n, per_block):
            yield np.arange(start, min(self.n, start + per_block))

    def _fault_context(self, day: int, unknown: str) -> faults.FaultContext:
        rng = self._rng(9, day)
        active = np.flatnonzero(self.pop.status == 0)
        known = int(rng.choice(active)) + 1 if len(active) else 1

        def fresh_customer() -> str:
            self.next_fault_customer += 1
            return _customer_id(self.next_fault_customer - 1)

        def next_order() -> str:
            self.next_order_no += 1
            return f"SO{self.next_order_no - 1:08d}"

        def next_activity() -> str:
            self.next_activity_no += 1
            return f"SA{self.next_activity_no - 1:09d}"

        return faults.FaultContext(
            self.dialect, day, day * 86400 + 15 * 3600 + 1234, _customer_id(known), unknown,
            fresh_customer, next_order, next_activity)

    # -- deliveries --------------------------------------------------------------------------
    def initial(self) -> None:
        folder = self._folder(self.end_date)
        deadline = self.end_day * 86400
        resolved = self._resolved_customer_delta()
        cust_file = self._open(folder, "customers", bom=self.dialect.name == "utf8")
        self._write_customers(cust_file, self.pop, None)
        order_file = self._open(folder, "orders")
        act_file = self._open(folder, "service_activities")
        pop = self.pop
        for number, block in enumerate(self._blocks()):
            lo, hi = pop.first_day[block], pop.last_day[block]
            rng = self._rng(1, number)
            cols = self._number(events.order_lines(rng, pop, block, lo, hi, deadline,
                                                   self.growth_origin), "orders")
            self._stash(rng, cols, "orders", "order_date", 0)
            self._write_orders(order_file, cols)
            rng = self._rng(2, number)
            cols = self._number(events.activities(
                rng, pop, self.shapes, self.prices, block, lo, hi, deadline,
                cover_all_types=number == 0), "service_activities")
            self._stash(rng, cols, "service_activities", "activity_date", 0)
            self._write_activities(act_file, cols)
            self._advance()
        if self.with_errors:
            ctx = self._fault_context(self.end_day - 1, _customer_id(self.n + NEVER_OFFSET))
            for entity, rows in faults.initial_faults(ctx).items():
                {"customers": cust_file, "orders": order_file,
                 "service_activities": act_file}[entity].write_rows(rows)
            if resolved == 1:
                self._unknown_then_resolved(ctx, order_file, act_file)
        for file in (cust_file, order_file, act_file):
            self._close(file)

    def delta(self, k: int) -> None:
        folder_date = self.end_date + timedelta(days=k)
        folder = self._folder(folder_date)
        day = self.end_day + k - 1  # the business day this delta reports
        deadline = (day + 1) * 86400
        rng = self._rng(3, k)
        self._update_customers(rng, day)
        cust_file = self._open(folder, "customers")
        resolved = self._resolved_customer_delta()
        extra = self._resolved_customer_frame(day) if resolved and k >= resolved else None
        self._write_customers(cust_file, self.pop, extra)

        pop = self.pop
        alive = np.flatnonzero((pop.first_day <= day) & (pop.status != STATUS_INACTIVE))
        lo = np.full(len(alive), day)
        order_file = self._open(folder, "orders")
        cols = self._number(events.order_lines(rng, pop, alive, lo, lo, deadline,
                                               self.growth_origin, workdays=False), "orders")
        self._stash(rng, cols, "orders", "order_date", k)
        self._write_orders(order_file, cols)
        self._write_orders(order_file, self._corrected_orders(rng, k, day))
        self._write_orders(order_file, self._credit_notes(rng, k, day, deadline))

        act_file = self._open(folder, "service_activities")
        cols = self._number(events.activities(rng, pop, self.shapes, self.prices, alive, lo, lo,
                                              deadline, workdays=False), "service_activities")
        self._stash(rng, cols, "service_activities", "activity_date", k)
        self._write_activities(act_file, cols)
        self._write_activities(act_file, self._corrected_activities(rng, k, day))

        if self.with_errors:
            ctx = self._fault_context(day, _customer_id(self.n + NEVER_OFFSET + k))
            cust_file.write_rows(faults.customer_faults(ctx))
            order_file.write_rows(faults.order_faults(ctx))
            act_file.write_rows(faults.activity_faults(ctx))
            if resolved == k + 1:
                self._unknown_then_resolved(ctx, order_file, act_file)
        for file in (cust_file, order_file, act_file):
            self._close(file)
        self._advance()

    def _advance(self) -> None:
        if self.progress is not None:
            self.progress.advance()

    def steps(self) -> int:
        """Blocks of customers in the initial delivery, and one step per delta."""
        return sum(1 for _ in self._blocks()) + self.deltas

    def _folder(self, when: date) -> Path:
        folder = self.out / when.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        self.summary["folders"].append(when.isoformat())
        return folder

    # -- delta contents ----------------------------------------------------------------------
    def _update_customers(self, rng, day: int) -> None:
        """A few account changes per night: new potential or account manager."""
        pop = self.pop
        changed = np.flatnonzero(rng.random(pop.size) < 0.01)
        new_potential = np.round(pop.potential_cents[changed] * rng.uniform(0.9, 1.3, len(changed))
                                 / 100_000).astype(np.int64) * 100_000
        pop.potential_cents[changed] = np.where(pop.potential_cents[changed] == NO_VALUE,
                                                NO_VALUE, new_potential)
        pop.manager[changed] = rng.integers(0, len(pop.account_managers), len(changed))
        pop.updated_at[changed] = day * 86400 + rng.integers(8 * 3600, 18 * 3600, len(changed))

    def _corrected_orders(self, rng, k: int, day: int) -> dict:
        cols = self._pending_for("orders", k)
        if not cols:
            return {}
        n = len(cols["revenue"])
        cols["revenue"] = np.round(cols["revenue"] * rng.uniform(0.85, 0.98, n)).astype(np.int64)
        cols["updated_at"] = day * 86400 + rng.integers(7 * 3600, 22 * 3600, n)
        return cols

    def _credit_notes(self, rng, k: int, day: int, deadline: int) -> dict:
        count = 1 if k == 1 else (1 if k == self.deltas else 0)
        buyers = np.flatnonzero((self.pop.order_rate > 0) & (self.pop.status != STATUS_INACTIVE))
        if not count or not len(buyers):
            return {}
        lines = 2 if k == 1 else 1
        customer = int(rng.choice(buyers))
        value = self.pop.line_value_cents[customer] * rng.uniform(0.2, 1.0, lines)
        order_no = self.next_order_no
        self.next_order_no += 1
        return {
            "prefix": np.ones(lines, dtype=np.int64),
            "order_no": np.full(lines, order_no), "line_no": np.arange(1, lines + 1),
            "customer": np.full(lines, customer + 1), "order_date": np.full(lines, day),
            "product_group": rng.integers(0, len(events.PRODUCT_GROUPS), lines),
            "revenue": -np.maximum(np.round(value), 100).astype(np.int64),
            "cogs": np.zeros(lines, dtype=np.int64),
            "updated_at": np.full(lines, min(day * 86400 + 16 * 3600, deadline - 1)),
        }

    def _corrected_activities(self, rng, k: int, day: int) -> dict:
        cols = self._pending_for("service_activities", k)
        if not cols:
            return {}
        n = len(cols["customer"])
        shapes = self.shapes
        cancel = rng.random(n) < 0.4
        stype = cols["service_type"]
        steps = (shapes.min_hi - shapes.min_lo) // shapes.min_step + 1
        redrawn = shapes.min_lo[stype] + shapes.min_step[stype] * np.floor(
            rng.random(n) * steps[stype]).astype(np.int64)
        free = cols["billed"] == 0
        cols["minutes"] = np.where(~cancel & free, redrawn, cols["minutes"])
        offset = cols["description"] - shapes.desc_start[stype] + 1
        next_desc = shapes.desc_start[stype] + offset % shapes.desc_count[stype]
        cols["description"] = np.where(cancel, cols["description"], next_desc)
        cols["status"] = np.where(cancel, events.STATUS_CANCELLED, events.STATUS_DONE)
        cols["updated_at"] = day * 86400 + rng.integers(7 * 3600, 22 * 3600, n)
        return cols

    # -- the unknown customer that a later snapshot brings ----------------------------------
    def _resolved_customer_delta(self) -> int:
        """The delta whose snapshot first holds the late customer (0: none)."""
        if not self.with_errors or self.deltas < 1:
            return 0
        return 2 if self.deltas >= 2 else 1

    def _resolved_customer_frame(self, day: int) -> pd.DataFrame:
        first = self.end_day + self._resolved_customer_delta() - 1
        return pd.DataFrame({
            "cid": [self.n + UNKNOWN_OFFSET + 1], "stem": [0], "form": [0], "industry": [0],
            "region": [1], "manager": [0], "country": [0], "since": [first - 3],
            "potential": [80_000_000], "status": [0], "updated_at": [first * 86400 + 9 * 3600],
        })

    def _unknown_then_resolved(self, ctx: faults.FaultContext, order_file: CsvFile,
                               act_file: CsvFile) -> None:
        late = _customer_id(self.n + UNKNOWN_OFFSET + 1)
        order_file.write_rows([faults.order_row(ctx, ctx.next_order(), customer_id=late)])
        act_file.write_rows([faults.activity_row(
            ctx, ctx.next_activity(), customer_id=late, service_type_code="TECH_INFO",
            description="Erstberatung vor Anlage im CRM", updated_at=py_timestamp(
                ctx.seconds + 600, ctx.dialect))])


def events_per_customer_year() -> int:
    return 300  # activities + order lines, on average


def generate_sample(out: Path, customers: int = 120, years: int = 3, seed: int = 42,
                    dialect: str = "utf8", with_errors: bool = False,
                    end_date: date = date(2026, 11, 20), deltas: int = 3,
                    progress: Progress | None = None) -> dict:
    """Write the sample landing folders under `out`; return folders, files and row counts.

    `progress` hears of every file written and counts the steps (blocks of customers, then
    deltas)."""
    if customers < 1 or years < 1 or deltas < 0:
        raise ValueError("customers and years must be >= 1, deltas >= 0")
    sample = _Sample(Path(out), customers, years, seed, get_dialect(dialect), with_errors,
                     end_date, deltas, progress)
    if progress is not None:
        progress.set_total(sample.steps())
    sample.initial()
    for k in range(1, deltas + 1):
        sample.delta(k)
    sample.con.close()
    summary = sample.summary
    summary["rows"] = {
        entity: sum(v for name, v in summary["files"].items() if name.endswith(f"/{entity}.csv"))
        for entity in ENTITIES
    }
    return summary
