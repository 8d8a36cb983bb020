"""The engine switch of `cvm load` and what the Spark engine hands dbt, without starting Spark
(tests/lib/warehouse/test_spark_engine.py runs it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.lib.warehouse.build_state import BuildPlan
from orchestration.lib.warehouse.catalog import RawFile
from orchestration.lib.warehouse.dbt_build import (
    DbtBuild,
    describe,
    kept_nodes,
    kept_tests,
    prepare_build,
)
from orchestration.lib.warehouse.spark_engine import environment, input_statements
from orchestration.lib.warehouse.store import Store


def test_the_engine_is_duckdb_unless_asked(monkeypatch):
    monkeypatch.delenv("CVM_ENGINE", raising=False)
    assert settings.engine_kind() == "duckdb"
    monkeypatch.setenv("CVM_ENGINE", "Spark")
    assert settings.engine_kind() == "spark"
    assert settings.engine_kind("duckdb") == "duckdb"  # the option wins over the environment


def test_an_unknown_engine_names_the_setting_and_the_choices(monkeypatch):
    monkeypatch.setenv("CVM_ENGINE", "postgres")
    with pytest.raises(ValueError, match=r"'postgres'.*CVM_ENGINE.*duckdb, spark"):
        settings.engine_kind()


def test_cvm_load_refuses_an_unknown_engine_before_loading(monkeypatch, tmp_path, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("CVM_ENGINE", "postgres")
    assert main(["load", "--landing", str(tmp_path), "--warehouse",
                 str(tmp_path / "w.duckdb")]) == 2
    assert "FAILED: engine 'postgres'" in capsys.readouterr().out
    assert not (tmp_path / "w.duckdb").exists()


def test_the_engine_is_named_with_its_cores(monkeypatch):
    monkeypatch.delenv("CVM_SPARK_MASTER", raising=False)
    assert describe("duckdb") == "duckdb (embedded)"
    assert describe("spark") == "spark (local[2])"  # the profile's default
    monkeypatch.setenv("CVM_SPARK_MASTER", "local[4]")
    assert describe("spark") == "spark (local[4])"


def test_each_engine_has_its_working_database_and_spark_stays_in_the_store(tmp_path):
    duck, spark = Store(tmp_path / "w.duckdb", "duckdb"), Store(tmp_path / "w.duckdb", "spark")
    assert duck.engine_database != spark.engine_database
    assert spark.engine_database.parent == spark.spark_dir
    assert spark.spark_dir == tmp_path / "w.store" / "work" / "spark"
    assert environment(spark) == {"CVM_SPARK_DIR": str(spark.spark_dir),
                                  "PYSPARK_PIN_THREAD": "false",
                                  "PYTHONWARNINGS": "ignore::FutureWarning"}


def _file(entity: str, day: int, name: str) -> RawFile:
    date = dt.date(2026, 11, day)
    return RawFile(entity, date, f"{date}/{entity}.csv",
                   f"raw/{entity}/extract_date={date}/{name}.parquet", 1, "delivered")


def test_spark_reads_exactly_the_catalogs_raw_files(tmp_path):
    """raw.<entity> names each current file (never the folder, where a retired file may still
    lie); an entity without files is an empty, typed view; the touched keys come from the
    added and retired files only, the rows a delta build tests of an extract from the added
    files only."""
    store = Store(tmp_path / "w.duckdb", "spark")
    root = tmp_path / "w.store"
    files = [_file("orders", 20, "a"), _file("orders", 21, "b"), _file("customers", 20, "c")]
    plan = BuildPlan(False, "incremental", added={"orders": [files[1].path]},
                     retired={"orders": ["raw/orders/extract_date=2026-11-21/old.parquet"]})
    statements = {s.split(" as ", 1)[0]: s for s in input_statements(store, files, plan)}
    orders = statements["create or replace view raw.orders"]
    assert orders.count("from parquet.`") == 2
    assert f"parquet.`{root}/raw/orders/extract_date=2026-11-20/a.parquet`" in orders
    assert f"parquet.`{root}/raw/orders/extract_date=2026-11-21/b.parquet`" in orders
    assert "where false" in statements["create or replace view raw.service_activities"]
    keys = statements["create or replace view cvm_delta.orders_keys"]
    assert "b.parquet" in keys and "old.parquet" in keys and "a.parquet" not in keys
    assert "`order_id`, `line_no`" in keys
    assert "where false" in statements["create or replace view cvm_delta.customers_keys"]
    # the rows of the added files alone: what a build over the delta tests of raw.orders
    added = statements["create or replace view cvm_delta.orders"]
    assert added.count("from parquet.`") == 1 and "b.parquet" in added, added
    assert "where false" in statements["create or replace view cvm_delta.customers"]


def test_a_store_is_always_given_its_engine_kind(tmp_path):
    with pytest.raises(TypeError):
        Store(tmp_path / "w.duckdb")  # no engine kind: no quiet DuckDB
    with pytest.raises(ValueError, match=r"'postgres'.*duckdb, spark"):
        Store(tmp_path / "w.duckdb", "postgres")
    store = Store(tmp_path / "w.duckdb", "duckdb")
    assert (store.root, store.published) == (tmp_path / "w.store", tmp_path / "w.duckdb")
    assert store.engine_database == tmp_path / "w.store" / "work" / "cvm_engine.duckdb"


def test_each_engine_kind_gives_dbt_its_target_and_environment(tmp_path, monkeypatch):
    """The one place that tells DuckDB from Spark: the target, the warehouse dbt writes, the
    kind of build (full or delta), and the level of dbt's log file (debug on Spark, for a
    failure's stack trace) unless asked otherwise, and the build's number. Of dbt's JSON
    artifacts, a build writes its run results alone, into the store's dbt target."""
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    full = BuildPlan(True, "first build", number=1)
    duck = DbtBuild(Store(tmp_path / "w.duckdb", "duckdb"), full, {})
    assert duck.args == ["build", "--exclude-resource-type", "unit_test", "--full-refresh"]
    assert duck.environment == {
        "CVM_WAREHOUSE": str(tmp_path / "w.store" / "work" / "cvm_engine.duckdb"),
        "CVM_BUILD": "full", "CVM_BUILD_NUMBER": "1", "DBT_LOG_LEVEL_FILE": "info",
        "DBT_WRITE_JSON": "false",
        "CVM_DBT_RUN_RESULTS": str(tmp_path / "w.store" / "work" / "dbt-target"
                                   / "run_results.json")}
    assert duck.describe() == "full build: first build"
    delta = BuildPlan(False, "incremental", added={"orders": ["raw/orders/a.parquet"]},
                      retired={"orders": ["raw/orders/b.parquet"], "customers": []},
                      number=8)
    spark = DbtBuild(Store(tmp_path / "w.duckdb", "spark"), delta, {"period_grain": "quarter"})
    assert spark.args == ["build", "--exclude-resource-type", "unit_test", "--target", "spark",
                          "--vars", '{"period_grain": "quarter"}']
    assert spark.environment == {"CVM_SPARK_DIR": str(tmp_path / "w.store" / "work" / "spark"),
                                 "PYSPARK_PIN_THREAD": "false",
                                 "PYTHONWARNINGS": "ignore::FutureWarning",
                                 "CVM_BUILD": "delta", "CVM_BUILD_NUMBER": "8",
                                 "DBT_LOG_LEVEL_FILE": "debug",
                                 "DBT_WRITE_JSON": "false",
                                 "CVM_DBT_RUN_RESULTS": str(tmp_path / "w.store" / "work"
                                                            / "spark" / "dbt-target"
                                                            / "run_results.json")}
    assert spark.describe() == "incremental build: 1 raw files added, 1 retired"
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # every statement, when asked for
    assert duck.environment["DBT_LOG_LEVEL_FILE"] == "debug"


def test_a_first_build_on_duckdb_is_prepared_in_full(tmp_path):
    """No published catalog, no engine database: the next catalog is opened, the build is a
    full one, and dbt gets the vars as given (DuckDB adds none)."""
    from orchestration.settings import DBT_PROJECT_DIR

    store = Store(tmp_path / "w.duckdb", "duckdb")
    build = prepare_build(store, "s1", DBT_PROJECT_DIR, {"period_grain": "quarter"})
    assert (build.plan.full, build.plan.reason) == (True, "first build")
    assert build.dbt_vars == {"period_grain": "quarter"}
    assert store.next_catalog.exists() and store.engine_database.exists()
    assert not store.published.exists()


def test_the_readme_starts_the_cluster_the_tests_start():
    """README "A Spark cluster" shows the commands of the tests' cluster
    (spark_cluster_fixtures.py), with the fixed ports the tests replace by free ones."""
    from pathlib import Path

    from orchestration.settings import PROJECT_DIR
    from tests.spark_cluster_fixtures import (
        EXECUTOR_MEMORY,
        master_command,
        worker_command,
    )

    text = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### A Spark cluster"):text.index("### Dagster on PostgreSQL")]
    block = section[section.index("```bash\n") + 8:]
    lines = block[:block.index("```")].replace("\\\n", " ").splitlines()
    commands = [" ".join(line.split()) for line in lines if "spark-class" in line]
    url = "spark://127.0.0.1:7077"
    expected = [master_command(7077, 8080), worker_command(url, 8081, Path("/tmp/spark-work"))]
    assert commands == [
        "$SPARK_HOME/bin/spark-class " + " ".join(command[1:]) + " &" for command in expected]
    assert (f"CVM_SPARK_MASTER={url} SPARK_EXECUTOR_MEMORY={EXECUTOR_MEMORY} "
            ".venv/bin/cvm load --engine spark") in lines
    assert f"engine: spark ({url})" in lines

def _node(kind: str, name: str, parents: list[str], sql: str = "select 1",
          materialized: str = "table", macros: tuple[str, ...] = ()) -> dict:
    return {"resource_type": kind, "name": name, "raw_code": sql,
            "depends_on": {"nodes": parents, "macros": list(macros)},
            "config": {"materialized": materialized}}


def _manifest(nodes: dict[str, dict], macros: dict[str, list[str]] | None = None) -> dict:
    """A manifest of `nodes` (unique id -> node) and of `macros` (unique id -> the macros
    each calls)."""
    return {"nodes": {unique_id: {**node, "unique_id": unique_id}
                      for unique_id, node in nodes.items()},
            "macros": {unique_id: {"depends_on": {"macros": calls}}
                       for unique_id, calls in (macros or {}).items()}}


def test_a_delta_build_keeps_what_reads_no_source_and_tests_the_rest():
    """Kept: seeds, the models over seeds only (parents first), none that reads the clock;
    on DuckDB the views too, but not a view whose SQL calls the macro that reads the build's
    kind, through other macros too (it shows every row after a full build). Left out with
    them: the tests of nothing but the relations kept unchanged, by name, with indirect
    selection `empty`, so that a test of a kept relation and a built one (a fact's
    relationship to a seed) still runs, and so does a kept view's test. A full build leaves
    nothing out."""
    p = "model.p."
    manifest = _manifest({
        "seed.p.rates": _node("seed", "rates", []),
        p + "stg_rates": _node("model", "stg_rates", ["seed.p.rates"], materialized="view"),
        p + "dim_rates": _node("model", "dim_rates", [p + "stg_rates"]),
        p + "stg_orders": _node("model", "stg_orders", ["source.p.raw.orders"]),
        p + "fct": _node("model", "fct", [p + "stg_orders", p + "dim_rates"]),
        p + "v_fct": _node("model", "v_fct", [p + "fct"], materialized="view"),
        p + "v_scoped": _node("model", "v_scoped", [p + "stg_orders"], materialized="view",
                              macros=("macro.p.entity_key", "macro.p.in_delta_scope")),
        p + "calendar": _node("model", "calendar", [], "select current_date as today"),
        "test.p.unique_rates": _node("test", "unique_rates", ["seed.p.rates"]),
        "test.p.rules_stg_rates": _node("test", "rules_stg_rates", [p + "stg_rates"]),
        "test.p.fct_rates": _node("test", "fct_rates", [p + "fct", p + "dim_rates"]),
        "test.p.rules_v_fct": _node("test", "rules_v_fct", [p + "v_fct"]),
    }, macros={"macro.p.entity_key": [],
               "macro.p.in_delta_scope": ["macro.p.cvm_build", "macro.p.is_touched_relation"],
               "macro.p.cvm_build": []})
    kept = [node["name"] for node in kept_nodes(manifest)]
    assert kept == ["rates", "stg_rates", "dim_rates"]
    assert [node["name"] for node in kept_nodes(manifest, views=True)] == [
        "rates", "stg_rates", "dim_rates", "v_fct"]
    assert sorted(test["name"] for test in kept_tests(manifest)) == [
        "rules_stg_rates", "unique_rates"]
    delta = DbtBuild(Store(Path("w.duckdb"), "duckdb"),
                     BuildPlan(False, "incremental", {}, {}), {})
    assert delta.leave_out(kept) == ["--indirect-selection", "empty",
                                     "--exclude", "rates stg_rates dim_rates"]
    assert delta.leave_out([]) == []
    full = DbtBuild(Store(Path("w.duckdb"), "duckdb"), BuildPlan(True, "first build"), {})
    assert full.leave_out(kept) == []
    assert delta.engine.keeps_views
    assert not DbtBuild(Store(Path("w"), "spark"), BuildPlan(False, "incremental", {}, {}),
                        {}).engine.keeps_views
