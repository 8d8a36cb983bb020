{#
    The keyword between a CTE's name and its body (`name as {{ inline_in_full_build() }} (`)
    for a CTE that holds every row of an extract or a fact and that the query reads more than
    once: the staged extracts' delivered versions (DuckDB's re-delivery rule reads them three
    times: macro latest_delivery), the costed activities (read for the time equations and for
    the rates), the rate check's facts (read for its cases and to name a broken case's
    activities).

    DuckDB keeps (materializes) a CTE that a query reads more than once: every row with every
    column, in memory and spilled to disk beyond the memory limit. Over the delta that is a
    few thousand rows, read once instead of scanning the history again for each reader; so a
    delta build keeps DuckDB's choice. In any other build (a first build over a history, a
    full refresh) the CTE holds the whole history: kept, it is a second copy of every row,
    written to disk and read back, where reading the rows again from their source costs a
    scan. There DuckDB is told `not materialized` (DECISIONLOG: "A first build keeps no copy
    of the history in DuckDB's CTEs").

    Spark inlines a CTE by default and has no keyword: the default renders nothing.
#}
{% macro inline_in_full_build() -%}
    {{ return(adapter.dispatch('inline_in_full_build', 'customer_value_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__inline_in_full_build() -%}
    {{ return('not materialized' if cvm_build() != 'delta' else '') }}
{%- endmacro %}

{% macro default__inline_in_full_build() -%}
    {{ return('') }}
{%- endmacro %}
