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
from orchestration.lib.reports import queries
from orchestration.lib.reports.translations import TEXTS, day, hours, language, money, text


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
    year = queries.Period(date(2026, 1, 1), date(2026, 12, 31))
    q2 = queries.Period(date(2026, 4, 1), date(2026, 6, 30))
    odd = queries.Period(date(2026, 2, 1), date(2026, 3, 31))
    assert (year.key, q2.key, odd.key) == ("2026", "2026-Q2", "2026-02-01")
    assert queries.find_period([q2, year], "2026-04-01") == q2
    assert queries.find_period([q2, year], None) == year  # the latest
    assert queries.find_period([q2, year], "2031") is None
    assert queries.find_period([], None) is None


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
    wh = queries.Warehouse(published)
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
    with pytest.raises(queries.WarehouseMissing, match="none.duckdb: no published warehouse"):
        with queries.Warehouse(tmp_path / "none.duckdb").reader():
            pass
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(queries.WarehouseUnreadable, match="junk.duckdb: cannot be read"):
        with queries.Warehouse(junk).reader():
            pass
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(queries.WarehouseUnreadable, match="customer_value"):
        with queries.Warehouse(empty).reader():
            pass
