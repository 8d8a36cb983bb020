"""The dbt project on either engine it runs on, for the tests: DuckDB and Apache Spark.

- `run_dbt(args, engine, ...)` runs dbt in this process (dbtRunner) and returns its success
  and its log lines. One process means one Spark session for the whole Spark suite: the JVM
  starts once.
- `DuckDBWarehouse` and `SparkWarehouse` hold the raw tables of a fixture and answer
  queries after a build, with the same Python values (Decimal, date, int, bool, str) on both.
- `spark_session(folder)` starts the local session with the settings of the `spark` target
  in dbt_project/profiles.yml (read from there, so the tests run what the profile says).

On Spark the raw tables are Parquet files written by DuckDB from the same fixture rows,
registered as tables of schema `raw` in a Spark warehouse under a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib.warehouse.spark_engine import profile_parameters

# the engines the dbt tests run on; the Spark case carries the `spark` marker
ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"
RAW_TABLES = ("customers", "orders", "service_activities")
# every schema a build writes: dropped before a Spark fixture is laid anew
SPARK_SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts")


@dataclass
class DbtResult:
    success: bool
    log: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.log)


@contextmanager
def _environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_dbt(
    args: list[str],
    *,
    engine: str,
    work: Path,
    env: dict[str, str],
    project: Path = PROJECT,
) -> DbtResult:
    """Run `dbt <args>` against `engine` ("duckdb" or "spark").

    Spark runs in this process (dbtRunner), so that every build of the test run shares the
    one Spark session. DuckDB runs in a child process, which releases the warehouse file
    when it ends (in process, the adapter would keep it open and locked).
    """
    command = [
        *args,
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--target", "spark" if engine == "spark" else "dev",
    ]
    settings = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", **env}
    if engine != "spark":
        dbt = Path(sys.executable).with_name("dbt")
        completed = subprocess.run(
            [str(dbt), *command],
            env={**os.environ, **settings},
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = completed.stdout + completed.stderr
        return DbtResult(success=completed.returncode == 0, log=output.splitlines())

    from dbt.cli.main import dbtRunner

    log: list[str] = []

    def collect(event) -> None:
        message = event.info.msg
        if message:
            log.append(str(message))

    cwd = Path.cwd()
    with _environment(settings):
        try:
            result = dbtRunner(callbacks=[collect]).invoke([*command, "--quiet"])
        finally:
            os.chdir(cwd)  # dbt changes into the project directory
    if result.exception is not None:
        log.append(repr(result.exception))
    return DbtResult(success=result.success, log=log)


def spark_session(folder: Path):
    """The one local Spark session of this process, as the `spark` target configures it
    (dbt_project/profiles.yml, read from there), with the gateway setting that `cvm load`
    gives dbt (spark_engine.environment: PYSPARK_PIN_THREAD=false, read when the JVM
    starts)."""
    os.environ.setdefault("PYSPARK_PIN_THREAD", "false")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in profile_parameters(folder).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def open_warehouse(request, engine: str, work: Path, raw_fixture: Path):
    """The warehouse of `engine` holding the raw tables of the DuckDB file `raw_fixture`.

    DuckDB builds in that file itself; Spark gets the same rows as Parquet tables, in the
    test run's one Spark session (the session-scoped fixture `spark`).
    """
    if engine == "spark":
        warehouse = SparkWarehouse(
            request.getfixturevalue("spark"), request.getfixturevalue("spark_folder")
        )
        warehouse.load_raw(raw_fixture, work / "parquet")
        return warehouse
    return DuckDBWarehouse(raw_fixture)


class DuckDBWarehouse:
    engine = "duckdb"

    def __init__(self, path: Path):
        self.path = path

    @property
    def dbt_env(self) -> dict[str, str]:
        return {"CVM_WAREHOUSE": str(self.path)}

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def tables(self, schema: str) -> set[str]:
        rows = self.query(
            f"select table_name from information_schema.tables where table_schema = '{schema}'"
        )
        return {row[0] for row in rows}


class SparkWarehouse:
    engine = "spark"

    def __init__(self, session: Any, folder: Path):
        self.session = session
        self.folder = folder

    @property
    def dbt_env(self) -> dict[str, str]:
        return {"CVM_SPARK_DIR": str(self.folder)}

    def reset(self) -> None:
        """Drop every schema a build writes, so each fixture starts empty."""
        for schema in SPARK_SCHEMAS:
            self.session.sql(f"drop database if exists {schema} cascade")

    def load_raw(self, duckdb_file: Path, parquet_dir: Path) -> None:
        """Copy the raw tables of a DuckDB fixture into Parquet and register them in Spark."""
        self.reset()
        if parquet_dir.exists():
            shutil.rmtree(parquet_dir)
        parquet_dir.mkdir(parents=True)
        con = duckdb.connect(str(duckdb_file), read_only=True)
        try:
            for table in RAW_TABLES:
                target = parquet_dir / f"{table}.parquet"
                con.execute(f"copy raw.{table} to '{target}' (format parquet)")
        finally:
            con.close()
        self.session.sql("create database raw")
        for table in RAW_TABLES:
            self.session.sql(
                f"create table raw.{table} using parquet "
                f"location '{parquet_dir / f'{table}.parquet'}'"
            )

    def query(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.session.sql(sql).collect()]

    def tables(self, schema: str) -> set[str]:
        return {
            row.tableName
            for row in self.session.sql(f"show tables in {schema}").collect()
            if not row.isTemporary
        }
