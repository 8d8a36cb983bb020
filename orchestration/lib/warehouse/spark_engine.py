"""The engine `spark`: the same dbt project on Apache Spark, over the same raw zone, published
the same way.

What stays as it is: the ingest writes the raw zone with DuckDB; build_state.py plans the build
(full or the delta) and keeps its state, the touched keys and the partitions of the marts in
a DuckDB database of the engine's own (`Store.engine_database`, under `work/spark/`); publish.py
writes the published mart files and the catalog. What Spark adds is the middle:

1. before dbt runs, `write_inputs` writes the Spark SQL that makes dbt's inputs, as a small
   Parquet file of statements, which the dbt hook `engine_inputs` (on-run-start,
   macros/cross_engine/engine_inputs.sql) runs in dbt's Spark session:
   - `raw.<entity>`: a view over exactly the catalog's current raw files, the file list the
     DuckDB engine reads (never a folder: a retired file and its successor lie side by side);
   - `cvm_delta.<entity>`: the rows of the added raw files (the rows a build over the delta
     tests of the extract as delivered);
   - `cvm_delta.<entity>_keys`: the touched keys, from the added and retired raw files;
   - `cvm_delta.customer_periods`: the customers and periods the touched keys occupied
     before the build (build_state.py), copied from the engine's database into a Parquet file;
   - `purchase_model.annual_forecast`: the purchase model's forecast, which the load's fit
     writes between the build's two parts (`write_forecast`; empty until then).
2. dbt builds on the `spark` target (dbt_project/profiles.yml): Parquet tables in Spark's
   warehouse folder, the incremental facts overwritten by whole partitions (periods).
3. after dbt, `mirror` makes the DuckDB database's `marts.*` and `reference.*` views over the
   Parquet files of Spark's tables, typed by the marts' contracts (Spark puts a partition
   column last and in the folder names; the views put every column back in its place and
   type). publish.py exports them into new files of the store like any engine's marts: the
   analyst's catalog names only those, so a failed run leaves the published state alone.

Spark's own files (tables, Hive metastore, Derby log) live in `work/spark/` of the store, out
of the working directory.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import yaml

from orchestration.lib.ingest.spec import SPECS
from orchestration.lib.sql import quote_ident, sql_literal
from orchestration.lib.warehouse.build_state import CUSTOMER_PERIODS, DELTA, BuildPlan
from orchestration.lib.warehouse.catalog import RawFile
from orchestration.lib.warehouse.store import Store
from orchestration.settings import DBT_PROJECT_DIR

# the raw files' Parquet types (DuckDB's) as Spark reads them: a naive TIMESTAMP is NTZ
SPARK_TYPES = {
    "VARCHAR": "string",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "DECIMAL(18,4)": "decimal(18,4)",
    "DATE": "date",
    "TIMESTAMP": "timestamp_ntz",
}
INPUTS_FILE = "engine_inputs.parquet"
CUSTOMER_PERIODS_FILE = "customer_periods.parquet"
FORECAST_FILE = "purchase_model_forecast.parquet"
FORECAST = "purchase_model.annual_forecast"
FORECAST_COLUMNS = (("customer_id", "VARCHAR"), ("as_of_date", "DATE"),
                    ("expected_revenue_year_eur", "DECIMAL(18,4)"),
                    ("expected_margin_year_eur", "DECIMAL(18,4)"))
# the schemas the mirror shows, as dbt names them
MIRRORED_SCHEMAS = ("marts", "reference")


_ENV_VAR = re.compile(r"\{\{\s*env_var\('([A-Z_]+)',\s*'([^']*)'\)\s*\}\}")


def _render(text: str, values: dict[str, str]) -> str:
    """A profile value with its env_var('NAME', 'default') calls replaced."""
    def value(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        return values.get(name, os.environ.get(name, default))

    return _ENV_VAR.sub(value, str(text))


def _target(project_dir: Path) -> dict:
    profile = yaml.safe_load((Path(project_dir) / "profiles.yml").read_text(encoding="utf-8"))
    return profile["customer_value_warehouse"]["outputs"]["spark"]


def profile_parameters(spark_dir: Path | None = None,
                       project_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """The `spark` target's server_side_parameters (dbt_project/profiles.yml), rendered with
    the environment, CVM_SPARK_DIR set to `spark_dir` when given."""
    values = {"CVM_SPARK_DIR": str(spark_dir)} if spark_dir is not None else {}
    parameters = _target(project_dir).get("server_side_parameters") or {}
    return {key: _render(value, values) for key, value in parameters.items()}


def profile_variables(project_dir: Path = DBT_PROJECT_DIR) -> set[str]:
    """The environment variables that the `spark` target's server_side_parameters read."""
    parameters = _target(project_dir).get("server_side_parameters") or {}
    return {match.group(1) for value in parameters.values()
            for match in _ENV_VAR.finditer(str(value))}


def target_method(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """How dbt reaches Spark: `session` (a session in dbt's process), `thrift`, ..."""
    return str(_target(project_dir).get("method"))


def describe(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Spark as the first line of `cvm load` names it: 'spark (local[2])' for the local
    session, else the server the `spark` target reaches (dbt_build.describe)."""
    target = _target(project_dir)
    if target.get("method") == "session":
        return f"spark ({profile_parameters(project_dir=project_dir).get('spark.master', 'local')})"
    return f"spark ({target.get('method')} {_render(target.get('host', ''), {})})"


def environment(store: Store) -> dict[str, str]:
    """The environment of a dbt run on the `spark` target for this store.

    PYSPARK_PIN_THREAD=false: dbt runs its nodes in worker threads; with PySpark's default
    "pinned thread" gateway builds here could hang, the JVM idle and Python waiting on it.
    The plain gateway keeps a pool of connections instead (read when the JVM starts).
    """
    return {"CVM_SPARK_DIR": str(store.spark_dir), "PYSPARK_PIN_THREAD": "false",
            # pyspark warns about the pandas version on import: not the user's concern
            "PYTHONWARNINGS": "ignore::FutureWarning"}


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _file(path: Path) -> str:
    return "parquet." + _ident(str(path))


def _select(columns: list[tuple[str, str]], paths: list[Path]) -> str:
    """The rows of the given raw files, these columns; no rows when there is no file."""
    if not paths:
        nulls = ", ".join(f"cast(null as {SPARK_TYPES[kind]}) as {_ident(name)}"
                          for name, kind in columns)
        return f"select {nulls} where false"
    names = ", ".join(_ident(name) for name, _ in columns)
    return " union all ".join(f"select {names} from {_file(p)}" for p in paths)


def input_statements(store: Store, files: list[RawFile], plan: BuildPlan) -> list[str]:
    """The Spark SQL that makes dbt's inputs (see the module docstring)."""
    statements = ["create database if not exists raw", f"create database if not exists {DELTA}"]
    for name, spec in SPECS.items():
        paths = [store.path(f.path) for f in files if f.entity == name]
        rows = _select(spec.typed_table_columns, paths)
        statements.append(f"create or replace view raw.{name} as {rows}")
        # the rows of the added files, which a build over the delta tests of the extract
        added = [store.path(p) for p in plan.added.get(name, [])]
        statements.append(f"create or replace view {DELTA}.{name} as "
                          f"{_select(spec.typed_table_columns, added)}")
        keys = [(c, kind) for c, kind in spec.typed_table_columns if c in spec.key]
        touched = [store.path(p) for p in plan.added.get(name, []) + plan.retired.get(name, [])]
        statements.append(f"create or replace view {DELTA}.{name}_keys as select distinct * "
                          f"from ({_select(keys, touched)})")
    # the customers and periods the touched keys occupied before the build (build_state.py)
    statements.append(f"create or replace view {CUSTOMER_PERIODS} as select customer_id, "
                      f"period_start from {_file(store.spark_dir / CUSTOMER_PERIODS_FILE)}")
    # the purchase model's forecast (write_forecast), read again by each part of the build
    statements.append("create database if not exists purchase_model")
    statements.append(f"create or replace view {FORECAST} as select * from "
                      f"{_file(store.spark_dir / FORECAST_FILE)}")
    return statements


def write_forecast(store: Store, con=None) -> None:
    """The forecast for Spark: a copy of the engine's database's table `FORECAST` (none
    there, or `con` None: no rows) as the Parquet file the view `FORECAST` reads."""
    target = sql_literal(store.spark_dir / FORECAST_FILE)
    columns = ", ".join(quote_ident(name) for name, _ in FORECAST_COLUMNS)
    if con is not None:
        con.execute(f"copy (select {columns} from {FORECAST}) to {target} (format parquet)")
        return
    nulls = ", ".join(f"cast(null as {kind}) as {quote_ident(name)}"
                      for name, kind in FORECAST_COLUMNS)
    duckdb.execute(f"copy (select {nulls} where false) to {target} (format parquet)")


def write_inputs(store: Store, files: list[RawFile], plan: BuildPlan) -> Path:
    """Write the input statements for the hook `engine_inputs`; returns the file, which dbt
    gets as the var `cvm_spark_inputs`."""
    target = store.spark_dir / INPUTS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach {sql_literal(store.engine_database)} as engine (read_only)")
        con.execute(f"copy (select * from engine.{CUSTOMER_PERIODS}) to "
                    f"{sql_literal(store.spark_dir / CUSTOMER_PERIODS_FILE)} (format parquet)")
        con.execute("detach engine")
        write_forecast(store)  # none until the fit writes it
        con.execute("create table inputs (seq INTEGER, statement VARCHAR)")
        con.executemany("insert into inputs values (?, ?)",
                        list(enumerate(input_statements(store, files, plan))))
        con.execute(f"copy inputs to {sql_literal(target)} (format parquet)")
    finally:
        con.close()
    return target


def table_folder(store: Store, schema: str, name: str) -> Path:
    """Where Spark keeps the files of a managed table (spark.sql.warehouse.dir of the
    profile)."""
    return store.spark_dir / "warehouse" / f"{schema}.db" / name.lower()


def _relations(manifest_path: Path, built: set[str] | None = None,
               ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(schema, name, [(column, contract type)]) of every model and seed in the mirrored
    schemas (of those `built`, dbt's unique ids, when given); no columns when the node has no
    contract (the seeds)."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    found = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in {"model", "seed"} or node["schema"] not in MIRRORED_SCHEMAS:
            continue
        if built is not None and unique_id not in built:
            continue
        columns = []
        if node["config"].get("contract", {}).get("enforced"):
            columns = [(c["name"], c["data_type"]) for c in node["columns"].values()]
        elif node["resource_type"] == "seed":
            columns = _empty_seed_columns(node)
        found.append((node["schema"], node["alias"], columns))
    return sorted(found)


def _empty_seed_columns(node: dict) -> list[tuple[str, str]]:
    """The columns of a seed whose CSV holds a header only (Spark writes no Parquet file for
    it): its header, typed by the seed's column_types (else VARCHAR); none for a seed with
    rows, which the mirror shows as Spark wrote it."""
    path = DBT_PROJECT_DIR / node["original_file_path"]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    if len(lines) != 1:
        return []
    types = {name.lower(): kind for name, kind in
             (node["config"].get("column_types") or {}).items()}
    names = [name.strip() for name in lines[0].split(",")]
    return [(name, "VARCHAR" if types.get(name.lower(), "string") == "string"
             else types[name.lower()]) for name in names]


def _view_sql(folder: Path, columns: list[tuple[str, str]]) -> str:
    """The files of a table: the columns named and typed by the contract, a partition column
    read from the folder names (`period_start=2026-01-01/`); a seed's as Spark wrote them."""
    files = sql_literal(folder / "**" / "*.parquet")
    if not columns:
        return f"select * from read_parquet({files}, hive_partitioning = false)"
    source = f"read_parquet({files}, hive_partitioning = true)"
    typed = ", ".join(f"cast({quote_ident(name)} as {kind}) as {quote_ident(name)}"
                      for name, kind in columns)
    return f"select {typed} from {source}"


def _empty_sql(columns: list[tuple[str, str]]) -> str:
    typed = ", ".join(f"cast(null as {kind}) as {quote_ident(name)}" for name, kind in columns)
    return f"select {typed} limit 0"


def mirror(store: Store, manifest_path: Path, built: set[str] | None = None) -> None:
    """(Re)create the views `marts.*` and `reference.*` of the engine's DuckDB database over
    the files of Spark's tables (see the module docstring): of the nodes `built` (dbt's
    unique ids), or of all."""
    con = duckdb.connect(str(store.engine_database))
    try:
        for schema in MIRRORED_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        for schema, name, columns in _relations(manifest_path, built):
            folder = table_folder(store, schema, name)
            if not folder.is_dir():
                raise RuntimeError(f"{schema}.{name}: Spark wrote no table at {folder}")
            has_files = any(folder.rglob("*.parquet"))
            if not has_files and not columns:
                raise RuntimeError(f"{schema}.{name}: no Parquet file in {folder}")
            query = _view_sql(folder, columns) if has_files else _empty_sql(columns)
            con.execute(f"create or replace view {schema}.{quote_ident(name)} as {query}")
    finally:
        con.close()
