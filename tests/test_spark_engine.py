"""`cvm load --engine spark`: the same job on Apache Spark gives the same published marts.

A small generated sample (two years, three deliveries, rows that break every row rule) is
loaded twice:
- on DuckDB, all deliveries in one load;
- on Spark: the first two deliveries (`cvm load --engine spark`, a full build), then the
  third (`CVM_ENGINE=spark cvm load`, an incremental night over the delta), then once more
  with `--full-refresh` (a full rebuild from the raw zone).

Then, for every mart table of the catalog:
- Spark's night equals DuckDB's load, checksum-equal with money rounded to cents (decimals
  to 2 places; doubles, the shares, to 6) and with the same column names and types;
- Spark's incremental night equals Spark's full rebuild, row for row, exactly.
The analyst's catalog is one DuckDB file either way, and Spark leaves no file in the working
directory.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.sample.generator import generate_sample
from orchestration.lib.warehouse import catalog, engine
from orchestration.lib.warehouse.store import Store
from tests.test_incremental import published_marts

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def marts_checksums(warehouse) -> dict[str, tuple]:
    """table -> (columns and types, rows, checksum of the rows with money rounded to cents)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1").fetchall()]
        found = {}
        for table in tables:
            columns = [(r[0], r[1]) for r in con.execute(
                f"describe select * from marts.{table}").fetchall()]
            values = [f"round({name}, 2)" if kind.startswith("DECIMAL")
                      else f"round({name}, 6)" if kind == "DOUBLE" else name
                      for name, kind in columns]
            rows, checksum = con.execute(
                f"select count(*), sum(hash({', '.join(values)})::hugeint) from marts.{table}"
            ).fetchone()
            found[table] = (columns, rows, checksum)
        return found
    finally:
        con.close()


def _cvm(*args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue().splitlines()


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_engine")
    sample = root / "sample"
    generate_sample(sample, customers=30, years=2, deltas=2, with_errors=True)
    deliveries = sorted(p.name for p in sample.iterdir())
    assert len(deliveries) == 3

    duck_landing, duck = root / "duckdb" / "landing", root / "duckdb" / "warehouse.duckdb"
    shutil.copytree(sample, duck_landing)
    code, _ = _cvm("load", "--landing", str(duck_landing), "--warehouse", str(duck))
    assert code == 0

    landing, spark = root / "spark" / "landing", root / "spark" / "warehouse.duckdb"
    landing.mkdir(parents=True)
    for name in deliveries[:2]:
        shutil.copytree(sample / name, landing / name)
    work = root / "cwd"  # Spark must leave nothing in the directory it is started from
    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        code, first = _cvm("load", "--engine", "spark", "--landing", str(landing),
                           "--warehouse", str(spark))
        assert code == 0, "\n".join(first)
        shutil.copytree(sample / deliveries[2], landing / deliveries[2])
        os.environ["CVM_ENGINE"] = "spark"
        try:
            code, second = _cvm("load", "--landing", str(landing), "--warehouse", str(spark))
        finally:
            del os.environ["CVM_ENGINE"]
        assert code == 0, "\n".join(second)
        state = engine.read_state(Store.beside(spark, "spark").engine)
        night = published_marts(spark)
        night_checksums = marts_checksums(spark)
        code, third = _cvm("load", "--engine", "spark", "--full-refresh", "--landing",
                           str(landing), "--warehouse", str(spark))
        assert code == 0, "\n".join(third)
    finally:
        os.chdir(cwd)
    return {"duckdb": duck, "spark": spark, "first": first, "second": second,
            "night_state": state, "night": night, "night_checksums": night_checksums,
            "rebuilt": published_marts(spark), "cwd": work}


def test_the_first_line_names_the_engine(nights):
    assert nights["first"][0] == "engine: spark (local[2])"
    assert nights["second"][0] == "engine: spark (local[2])"  # from CVM_ENGINE


def test_the_night_was_incremental_on_spark(nights):
    state = nights["night_state"]
    assert state.is_finished and not state.is_full
    assert any("incremental build" in line for line in nights["second"])


def test_spark_marts_equal_duckdb_marts_to_the_cent(nights):
    duck = marts_checksums(nights["duckdb"])
    spark = nights["night_checksums"]
    assert sorted(spark) == sorted(duck)
    assert len(duck) == 10  # every mart table and view of the project
    for table, (columns, rows, checksum) in duck.items():
        assert rows > 0, table
        assert spark[table] == (columns, rows, checksum), table


def test_an_incremental_night_on_spark_equals_a_full_spark_rebuild(nights):
    assert nights["night"] == nights["rebuilt"]


def test_the_catalog_names_only_files_of_its_store(nights):
    """The published marts are files of the store, never Spark's own table files: a run that
    fails later can leave Spark's tables changed, the catalog is unchanged."""
    spark = nights["spark"]
    store = Store.beside(spark)
    con = duckdb.connect(str(spark), read_only=True)
    try:
        files = [p for paths in catalog.mart_files(con).values() for p in paths]
    finally:
        con.close()
    assert files and all(p.startswith("marts/") for p in files)
    assert all(store.path(p).is_file() for p in files)


def test_spark_leaves_nothing_in_the_working_directory(nights):
    assert list(nights["cwd"].iterdir()) == []
    spark_dir = Store.beside(nights["spark"], "spark").spark_dir
    assert (spark_dir / "metastore_db").is_dir() and (spark_dir / "derby.log").is_file()
