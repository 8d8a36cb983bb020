{#
    dbt's inputs on an engine that does not share the orchestration's DuckDB database.

    On DuckDB the orchestration creates the raw views and the touched keys in dbt's own
    database before the build (lib/warehouse/build_state.py): nothing to do here. On Spark it
    writes the statements that create them (`raw.<entity>` over the catalog's raw files,
    `cvm_delta.<entity>_keys`) to a Parquet file named by the var `cvm_spark_inputs`
    (lib/warehouse/spark_engine.py); this hook (on-run-start) runs them in dbt's session.
    Without the var (a hand-run dbt, the tests' fixtures) it does nothing. Neither is portable:
    both engines are named, and `default__` raises (the rule: dispatch.sql).
#}
{% macro engine_inputs() -%}
    {{ return(adapter.dispatch('engine_inputs', 'customer_value_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__engine_inputs() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__engine_inputs() -%}
    {%- set inputs = var('cvm_spark_inputs', none) -%}
    {%- if execute and inputs -%}
        {%- set statements = run_query(
            'select statement from parquet.`' ~ inputs ~ '` order by seq'
        ) -%}
        {%- for row in statements.rows -%}
            {%- do run_query(row[0]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro default__engine_inputs() -%}
    {{ unsupported_engine('engine_inputs') }}
{%- endmacro %}

{#
    The materialization of a mart that is a filter or join of other marts: a table, the
    portable default, whose rows are published as files like the other marts; a view on
    DuckDB, which the catalog creates again from its SQL (lib/warehouse/marts.py), while it
    cannot run another engine's SQL.
#}
{% macro derived_mart_materialization() -%}
    {{ return(adapter.dispatch('derived_mart_materialization', 'customer_value_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__derived_mart_materialization() -%}
    {{ return('view') }}
{%- endmacro %}

{% macro default__derived_mart_materialization() -%}
    {{ return('table') }}
{%- endmacro %}
