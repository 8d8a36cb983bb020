"""Plain helpers of the surfaces: formats per language, period names, reading a published file
while it is replaced."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from orchestration.cockpit.components import customer_path, href
from orchestration.lib.reports.periods import Period, PeriodNotFound, find_period, read_periods
from orchestration.lib.reports.translations import TEXTS, day, hours, language, money, text
from orchestration.lib.reports.warehouse import Warehouse, WarehouseMissing, WarehouseUnreadable


def test_amounts_and_dates_in_each_language():
    assert money(Decimal("1234.56"), "de") == "1.234,56\xa0€"
    assert money(1234.56, "en") == "€1,234.56"
    assert money(-1234567.8, "de", digits=0) == "-1.234.568\xa0€"
    assert money(None, "de") == "–"
    assert day(date(2026, 3, 31), "de") == "31.03.2026"
    assert day(date(2026, 3, 31), "en") == "31 Mar 2026"
    assert hours(90, "de") == "1,5" and hours(90, "en") == "1.5"  # 90 min = 1.5 h
    assert language("EN") == "en" and language("fr") == "de" and language(None) == "de"


def test_every_text_speaks_both_languages():
    assert all(set(both) == {"de", "en"} and all(both.values()) for both in TEXTS.values())
    assert text("st_title_period", "en", period="2026") == "Our services to you in 2026"


def test_stable_addresses():
    assert href("/portfolio", "de", period="2026", manager=None) == "/portfolio?period=2026"
    assert href("/customer/C1", "en", period="2026") == "/customer/C1?period=2026&lang=en"
    assert href("/migration", "de") == "/migration"
    assert customer_path("K 1/2", "/statement") == "/customer/K%201%2F2/statement"


def test_period_names():
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
    odd = Period(date(2026, 2, 1), date(2026, 3, 31))
    assert (year.key, q2.key, odd.key) == ("2026", "2026-Q2", "2026-02-01")
    assert find_period([q2, year], "2026-04-01") == q2
    assert find_period([q2, year], None) == year  # the latest
    with pytest.raises(PeriodNotFound, match=r"no period '2031' in the warehouse \(periods: "
                                             r"2026-Q2, 2026\)"):
        find_period([q2, year], "2031")
    with pytest.raises(PeriodNotFound, match="holds no period yet"):
        find_period([], None)


def _warehouse(path, name):
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.customer_value as select ? as customer_id", [name])
    con.close()


def test_a_published_file_replaced_by_rename_is_read_at_the_next_request(tmp_path):
    """DuckDB caches opened files by path: a plain connect would keep serving the old file
    while a connection to it is open. The reader attaches each version of its own."""
    published = tmp_path / "warehouse.duckdb"
    _warehouse(published, "old")
    _warehouse(tmp_path / "new.duckdb", "new")
    wh = Warehouse(published)
    sql = "select customer_id from marts.customer_value"
    with wh.reader() as before:
        assert before.execute(sql).fetchone() == ("old",)
        os.replace(tmp_path / "new.duckdb", published)  # what publishing does
        with wh.reader() as after:
            assert after.execute(sql).fetchone() == ("new",)
        # a request still running keeps the version it started with
        assert before.execute(sql).fetchone() == ("old",)
    # read-only: another process may open the file at the same time
    with wh.reader():
        probe = subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], "
             "read_only=True).execute('select 1')", str(published)], capture_output=True)
        assert probe.returncode == 0, probe.stderr


def test_missing_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(WarehouseMissing, match="none.duckdb: no published warehouse"):
        with Warehouse(tmp_path / "none.duckdb").reader():
            pass
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(WarehouseUnreadable, match="junk.duckdb: cannot be read"):
        with Warehouse(junk).reader():
            pass
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(WarehouseUnreadable, match="customer_value"):
        with Warehouse(empty).reader():
            pass


def _find(component, component_id):
    """The Dash component with `component_id` inside `component`, or None."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


def test_the_cockpit_and_the_statement_give_one_as_of_date(tmp_path):
    """A delivery without customers.csv: the marts hold activities up to 2026-11-22, the
    customers' latest extract is 2026-11-15. Both surfaces say how far the data reach, the
    22nd; the customers' extract date is no "as of" date."""
    from orchestration.cockpit.app import render
    from orchestration.lib.reports.statement import resolve_range, statement_context

    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("""create table marts.customer_value as select 'C1' as customer_id,
        date '2026-01-01' as period_start, date '2026-12-31' as period_end,
        date '2026-11-22' as data_through, false as is_period_complete""")
    con.execute("""create table marts.dim_customers as select 'C1' as customer_id,
        'Alpha GmbH' as customer_name, date '2020-01-01' as customer_since,
        date '2026-11-15' as last_extract_date""")
    con.execute("""create table marts.dim_service_types (service_type_code text, name_de text,
        name_en text, cost_driver text, customer_name_de text, customer_name_en text)""")
    con.execute("""create table marts.fct_value_transfers (activity_id text, customer_id text,
        activity_date date, period_start date, service_type_code text, description text,
        duration_minutes double, participants int, standard_cost_eur double,
        billed_amount_eur double, value_transfer_eur double)""")
    con.close()

    page = render(Warehouse(path), "/nowhere", None)
    assert _find(page, "data-as-of").children == "Datenstand 22.11.2026"
    with Warehouse(path).reader() as con:
        available = read_periods(con)
        context = statement_context(con, "C1", resolve_range(available), "de",
                                    issued=date(2026, 11, 25))
    assert context["as_of"] == "22.11.2026"
    assert available[-1].data_through == date(2026, 11, 22)
    assert "22.11.2026" in context["interim_note"]
