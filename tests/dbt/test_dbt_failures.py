"""Builds that must fail: overlapping rate versions (on both engines) and a money overflow
(on DuckDB here; on Spark in the cluster's nights of tests/lib/warehouse/test_spark_engine.py,
where a delivery's overflowing sum fails a blocking not_null test of the money built from it,
so that the slow Spark case runs once).

Each test lays its own raw fixture (on Spark: drops every schema first), so it runs before
or after tests/dbt/test_dbt_project.py without touching that module's build.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from orchestration.defs.dbt.assets import broken_rules, headline
from tests.dbt_engine_fixtures import ENGINES, PROJECT, open_warehouse, run_dbt
from tests.dbt_fixtures import build_raw_fixture


@pytest.mark.parametrize("engine", ENGINES)
def test_overlapping_rates_fail_the_build_naming_type_and_ids(request, tmp_path, engine):
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    rates = project / "seeds" / "standard_cost_rates.csv"
    with rates.open("a", encoding="utf-8") as handle:
        # overlaps HOTLINE-2025 (2025-01-01 .. 2026-01-01) and nothing else
        handle.write("HOTLINE-2025-MID,HOTLINE,2025-06-01,2025-09-01,90.00,0.00,0.00\n")
    warehouse = open_warehouse(
        request, engine, tmp_path, build_raw_fixture(tmp_path / "warehouse.duckdb")
    )
    # the rates and every node built on them (the unit tests have their own run in
    # tests/dbt/test_dbt_project.py): what does not depend on the rates says nothing here,
    # and on Spark each node costs about a second
    result = run_dbt(
        ["build", "--select", "standard_cost_rates+", "--exclude", "resource_type:unit_test"],
        engine=engine,
        work=tmp_path,
        env=warehouse.dbt_env,
        project=project,
    )
    assert not result.success
    assert "standard_cost_rates_do_not_overlap" in result.output
    # the error raised by the test names the type and both rate ids
    assert "overlapping validity in standard_cost_rates for service_type_code HOTLINE" in (
        result.output
    )
    assert "rate_id HOTLINE-2025 and HOTLINE-2025-MID" in result.output
    # the marts are not built on overlapping rates: selected, skipped, absent
    assert "SKIP relation marts.customer_value" in result.output, result.output
    assert "customer_value" not in warehouse.tables("marts")


def test_money_overflow_fails_the_build_instead_of_turning_null(request, tmp_path):
    """Revenue beyond DECIMAL(18, 4) must stop the build.

    C001's 2025 orders O-1 and O-2 are set to 60,000,000,000,000 EUR each: their sum,
    120,000,000,000,000, does not fit DECIMAL(18, 4) (at most 99,999,999,999,999.9999).
    DuckDB refuses the cast. Spark, which dbt-spark runs with ANSI mode off, returns
    NULL instead, so the not_null rules on the marts' money columns must fail the build:
    test_spark_engine.py::test_a_failing_blocking_test_publishes_nothing_and_leaves_no_process.
    """
    engine = "duckdb"
    raw = build_raw_fixture(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(raw))
    try:
        con.execute(
            "update raw.orders set net_revenue_eur = 60000000000000, cost_of_goods_eur = 0 "
            "where order_id in ('O-1', 'O-2')"
        )
    finally:
        con.close()
    warehouse = open_warehouse(request, engine, tmp_path, raw)
    result = run_dbt(
        [
            "build", "--select", "+customer_value", "--exclude", "resource_type:unit_test",
            "--indirect-selection", "cautious",
        ],
        engine=engine,
        work=tmp_path,
        env=warehouse.dbt_env,
    )
    assert not result.success
    assert 'Casting value "120000000000000.0000" to type DECIMAL(18,4) failed' in result.output
    # the load's one line names the database's message, not the caret under the SQL
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    said = [headline(r["message"] or "") for r in results if r["status"] == "error"]
    assert any(line.startswith("Conversion Error: Casting value \"120000000000000.0000\"")
               for line in said), said
    assert not any("^" in line or line.startswith("LINE") for line in said), said


@pytest.mark.parametrize("engine", ENGINES)
def test_a_relation_s_not_null_test_fails_naming_each_null_column(request, tmp_path, engine):
    """A relation's column_rules test covers its required columns (`not_null`, in one scan);
    the failed build's log names each column that holds a NULL, with its row count, for the
    load's report.

    O-0/1, O-1/1 (two versions, one kept) and O-2/1 lose their customer_id in the raw zone:
    the staged order lines then hold 3 lines without one, and no other required column of
    them (order_id, line_no) is NULL.
    """
    raw = build_raw_fixture(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(raw))
    try:
        con.execute("update raw.orders set customer_id = NULL "
                    "where order_id in ('O-0', 'O-1', 'O-2')")
    finally:
        con.close()
    warehouse = open_warehouse(request, engine, tmp_path, raw)
    result = run_dbt(["build", "--select", "+column_rules_stg_crm__orders", "--exclude",
                      "resource_type:unit_test"],
                     engine=engine, work=tmp_path, env=warehouse.dbt_env)
    assert not result.success
    assert "column_rules_stg_crm__orders" in result.output
    assert broken_rules(tmp_path / "logs" / "dbt.log") == {
        "column_rules_stg_crm__orders": ["NULL in customer_id (3 rows)"]
    }
    # no log (a build that never started): nothing named
    assert broken_rules(tmp_path / "no.log") == {}


def test_a_relation_s_column_rules_fail_naming_each_broken_rule(tmp_path):
    """One column_rules test covers a relation's unique, unique_combinations, accepted_values
    and relationships rules; the failed build's log names each broken rule, its column (or
    columns) and the value (or values) that broke it, for the load's report.

    Of the staged activities, the first (by id) gets the status 'lost' (not done or
    cancelled) and the last a customer 'C-NONE' that no staged customer has. The seed of
    source systems' customer ids maps two HubSpot ids to the same customer, whose key there is
    the source system and the customer. Every other rule of both relations holds. On DuckDB:
    the macro's SQL is the same on Spark, whose nights run these tests too.
    """
    raw = build_raw_fixture(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(raw))
    try:
        con.execute("update raw.service_activities set status = 'lost' where activity_id = "
                    "(select min(activity_id) from raw.service_activities)")
        con.execute("update raw.service_activities set customer_id = 'C-NONE' where "
                    "activity_id = (select max(activity_id) from raw.service_activities)")
    finally:
        con.close()
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "seeds" / "source_customer_ids.csv").write_text(
        "source_system,source_customer_id,customer_id\n"
        "hubspot,H-1,C-0001\nhubspot,H-2,C-0001\nhubspot,H-3,C-0002\n", encoding="utf-8")
    warehouse = open_warehouse(None, "duckdb", tmp_path, raw)
    result = run_dbt(["build", "--select", "+column_rules_stg_service_log__service_activities",
                      "+column_rules_source_customer_ids", "--exclude", "resource_type:unit_test"],
                     engine="duckdb", work=tmp_path, env=warehouse.dbt_env, project=project)
    assert not result.success
    assert "column_rules_stg_service_log__service_activities" in result.output
    assert broken_rules(tmp_path / "logs" / "dbt.log") == {
        "column_rules_stg_service_log__service_activities": [
            "accepted_values broken in status by lost (1 row)",
            "relationships broken in customer_id by C-NONE (1 row)",
        ],
        "column_rules_source_customer_ids": [
            "unique broken in source_system, customer_id by hubspot, C-0001 (2 rows)",
        ],
    }
    assert broken_rules(tmp_path / "no.log") == {}


def test_the_fact_s_expressions_fail_naming_each_expression_and_activity(tmp_path):
    """The fact's column_rules test holds its expressions: each applies to the rows of its
    `where` and fails for a row where it is false or NULL, named by the expression's name
    and the row's activity_id; a row outside its `where` breaks nothing.

    After a passing build of the fact, three priced activities of the fact are changed in the
    engine's database: the first (by id) becomes a free transfer whose value transfer is its
    standard cost plus 1 EUR (breaks free_transfers_full_standard_cost); the second loses its
    value transfer (NULL: breaks priced_have_cost_and_transfer, and, if it is a free,
    discounted or billed transfer, that kind's expression too: NULL is not true); the third
    becomes unpriced while it keeps its cost (breaks unpriced_have_no_cost_and_no_transfer;
    priced_have_cost_and_transfer applies to it no longer, and it still meets its transfer
    kind's). The test run again fails and the log names those rules with those activities,
    nothing else. Then every free transfer breaks its expression: the log names the first
    three of them by id (macro report_broken_rules), and the other broken rules as before.
    """
    raw = build_raw_fixture(tmp_path / "warehouse.duckdb")
    warehouse = open_warehouse(None, "duckdb", tmp_path, raw)
    built = run_dbt(["build", "--select", "+column_rules_fct_service_activities", "--exclude",
                     "resource_type:unit_test", "--indirect-selection", "cautious"],
                    engine="duckdb", work=tmp_path, env=warehouse.dbt_env)
    assert built.success, built.output
    con = duckdb.connect(str(warehouse.path))
    try:
        first, second, third = (row[0] for row in con.execute(
            "select activity_id from marts.fct_service_activities where is_priced "
            "order by activity_id limit 3").fetchall())
        second_kind = con.execute("select transfer_kind from marts.fct_service_activities "
                                  "where activity_id = ?", [second]).fetchone()[0]
        con.execute("update marts.fct_service_activities set transfer_kind = 'free', "
                    "billed_amount_eur = 0, value_transfer_eur = standard_cost_eur + 1 "
                    "where activity_id = ?", [first])
        con.execute("update marts.fct_service_activities set value_transfer_eur = null "
                    "where activity_id = ?", [second])
        con.execute("update marts.fct_service_activities set is_priced = false "
                    "where activity_id = ?", [third])
    finally:
        con.close()
    tested = run_dbt(["test", "--select", "column_rules_fct_service_activities"],
                     engine="duckdb", work=tmp_path, env=warehouse.dbt_env)
    assert not tested.success
    kinds = {"free": "free_transfers_full_standard_cost",
             "discounted": "discounted_transfers_cost_minus_billed",
             "billed": "billed_transfers_nothing"}
    expected = {f"free_transfers_full_standard_cost not true for {first} (1 row)",
                f"priced_have_cost_and_transfer not true for {second} (1 row)",
                f"{kinds[second_kind]} not true for {second} (1 row)",
                f"unpriced_have_no_cost_and_no_transfer not true for {third} (1 row)"}
    found = broken_rules(tmp_path / "logs" / "dbt.log")
    assert list(found) == ["column_rules_fct_service_activities"], found
    assert set(found["column_rules_fct_service_activities"]) == expected, found

    # every free transfer 1 EUR above its cost: the log names 3 of them, the first by id, and
    # every other broken rule still
    con = duckdb.connect(str(warehouse.path))
    try:
        con.execute("update marts.fct_service_activities set value_transfer_eur = "
                    "standard_cost_eur + 1 where transfer_kind = 'free' and activity_id <> ?",
                    [second])
        free = sorted(row[0] for row in con.execute(
            "select activity_id from marts.fct_service_activities "
            "where transfer_kind = 'free'").fetchall())
    finally:
        con.close()
    assert len(free) > 3
    tested = run_dbt(["test", "--select", "column_rules_fct_service_activities"],
                     engine="duckdb", work=tmp_path, env=warehouse.dbt_env)
    assert not tested.success
    expected = {f"free_transfers_full_standard_cost not true for {activity} (1 row)"
                for activity in free[:3]}
    expected |= {f"priced_have_cost_and_transfer not true for {second} (1 row)",
                 f"unpriced_have_no_cost_and_no_transfer not true for {third} (1 row)"}
    if second_kind != "free":
        expected.add(f"{kinds[second_kind]} not true for {second} (1 row)")
    found = broken_rules(tmp_path / "logs" / "dbt.log")
    assert set(found["column_rules_fct_service_activities"]) == expected, found


def test_the_rate_check_names_each_activity_whose_kept_rate_does_not_match(tmp_path):
    """assert_priced_activities_match_exactly_one_rate matches each case of service type,
    department, date and kept rate once, and names every priced activity of a broken case:
    A1 (RESEARCH, 2025-02-01) given the hotline's rate of 2025, A9 (HOTLINE, 2025-01-01) given
    the hotline's rate of 2024, which ended the day before. A3 and A10 keep theirs: HOTLINE
    with HOTLINE-2025 on 2025-04-01, and with HOTLINE-2024 on 2024-12-31, where it is valid."""
    raw = build_raw_fixture(tmp_path / "warehouse.duckdb")
    warehouse = open_warehouse(None, "duckdb", tmp_path, raw)
    test = "assert_priced_activities_match_exactly_one_rate"
    built = run_dbt(["build", "--select", f"+{test}", "--exclude", "resource_type:unit_test",
                     "--indirect-selection", "cautious"],
                    engine="duckdb", work=tmp_path, env=warehouse.dbt_env)
    assert built.success, built.output
    con = duckdb.connect(str(warehouse.path))
    try:
        kept = dict(con.execute("select activity_id, rate_id from marts.fct_service_activities "
                                "where activity_id in ('A1', 'A3', 'A9', 'A10')").fetchall())
        assert kept == {"A1": "RESEARCH-2025", "A3": "HOTLINE-2025", "A9": "HOTLINE-2025",
                        "A10": "HOTLINE-2024"}
        con.execute("update marts.fct_service_activities set rate_id = 'HOTLINE-2025' "
                    "where activity_id = 'A1'")
        con.execute("update marts.fct_service_activities set rate_id = 'HOTLINE-2024' "
                    "where activity_id = 'A9'")
    finally:
        con.close()
    tested = run_dbt(["test", "--select", test], engine="duckdb", work=tmp_path,
                     env=warehouse.dbt_env)
    assert not tested.success
    assert "Got 2 results" in tested.output, tested.output
    compiled = next((tmp_path / "target" / "compiled").rglob(f"{test}.sql"))
    con = duckdb.connect(str(warehouse.path), read_only=True)
    try:
        found = con.execute("select activity_id, rate_id, matching_kept_rate from ("
                            + compiled.read_text(encoding="utf-8") + ") order by 1").fetchall()
    finally:
        con.close()
    assert found == [("A1", "HOTLINE-2025", 0), ("A9", "HOTLINE-2024", 0)]


def test_the_headline_of_a_failure_is_the_database_s_error_line():
    con = duckdb.connect()
    with pytest.raises(duckdb.Error) as failed:
        con.execute("select cast('12.345,00' as integer) from range(3)")
    message = f"Runtime Error in model fct_order_lines (models/x.sql)\n  {failed.value}"
    assert "^^^" in message.splitlines()[-1]  # what the terminal showed before
    assert headline(message) == "Conversion Error: Could not convert string '12.345,00' to INT32"
    assert headline("Database Error\n  something broke\n") == "Database Error"
    assert headline("") == ""
    # a Spark failure with the JVM's stack trace: the error line and its root cause
    spark = ("Runtime Error in model int_activities_costed (models/x.sql)\n"
             "  : java.util.concurrent.ExecutionException: Boxed Exception\n\n"
             "  JVM stacktrace:\n"
             "  java.util.concurrent.ExecutionException: Boxed Exception\n"
             "  \tat scala.concurrent.impl.Promise$.resolve(Promise.scala:99)\n"
             "  Caused by: org.apache.spark.SparkException: Job aborted\n"
             "  \tat org.apache.spark.scheduler.DAGScheduler.failJob(DAGScheduler.scala:1)\n"
             "  Caused by: java.lang.StackOverflowError\n"
             "  \tat org.apache.spark.sql.catalyst.trees.TreeNode.transform(TreeNode.scala:1)\n")
    assert headline(spark) == (": java.util.concurrent.ExecutionException: Boxed Exception "
                               "(caused by java.lang.StackOverflowError)")


def test_a_build_out_of_memory_names_the_limit_to_raise(monkeypatch):
    """DuckDB's own out-of-memory error, as dbt reports it: the failure line names the build's
    memory limit and the variable that raises it."""
    con = duckdb.connect()
    con.execute("set memory_limit = '20MB'; set temp_directory = ''")
    with pytest.raises(duckdb.Error) as failed:
        con.execute("select length(string_agg(cast(i as varchar), ',')) from range(5000000) t(i)")
    message = f"Runtime Error in model stg_crm__orders (models/x.sql)\n  {failed.value}"
    monkeypatch.delenv("CVM_DUCKDB_MEMORY_LIMIT", raising=False)
    said = headline(message)
    assert said.startswith("Out of Memory Error: failed to allocate"), said
    assert said.endswith("(the build's memory limit is the default of dbt_project/profiles.yml; "
                         "set CVM_DUCKDB_MEMORY_LIMIT higher, e.g. CVM_DUCKDB_MEMORY_LIMIT=4GB, "
                         "and load again)"), said
    monkeypatch.setenv("CVM_DUCKDB_MEMORY_LIMIT", "3GB")
    assert "the build's memory limit is 3GB;" in headline(message)
