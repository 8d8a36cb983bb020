{#
    The config and the rows of an incremental model. DuckDB deletes the touched rows (a
    pre-hook) and appends their new rows; Spark, without row deletes, overwrites whole
    partitions. No strategy is portable: both engines are named and `default__` raises (the
    rule: macros/cross_engine/dispatch.sql).
#}

{#
    Config of an incremental model keyed by an extract's key: the strategy and the hook that
    take the touched keys' old rows out. `partition_by` is the column by which an engine
    without row deletes overwrites whole partitions.
#}
{% macro keyed_incremental_config(entity, key_columns, partition_by) -%}
    {{ return(scoped_incremental_config(
        "remove_touched('" ~ entity ~ "', " ~ key_columns ~ ")", partition_by
    )) }}
{%- endmacro %}

{#
    Config of an incremental model whose unit is a scope: `remove_call`, the macro call (as
    text) of the DuckDB pre-hook that deletes the scope's old rows; `partition_by`, the column
    by which an engine without row deletes overwrites whole partitions (none: rebuilt whole).
#}
{% macro scoped_incremental_config(remove_call, partition_by) -%}
    {{ return(adapter.dispatch('scoped_incremental_config', 'customer_value_warehouse')(
        remove_call, partition_by
    )) }}
{%- endmacro %}

{% macro duckdb__scoped_incremental_config(remove_call, partition_by) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': '{{ ' ~ remove_call ~ ' }}',
    }) }}
{%- endmacro %}

{% macro spark__scoped_incremental_config(remove_call, partition_by) -%}
    {%- if partition_by is none -%}
        {# no partitions to overwrite: rebuilt whole #}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'file_format': 'parquet',
        'partition_by': [partition_by],
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro default__scoped_incremental_config(remove_call, partition_by) -%}
    {{ unsupported_engine('scoped_incremental_config') }}
{%- endmacro %}

{# DuckDB's pre-hook: delete the touched keys' rows before their new rows are appended. #}
{% macro remove_touched(entity, key_columns) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as current_rows
        where {{ is_touched(entity, key_columns, 'current_rows') }}
    {%- endif -%}
{%- endmacro %}

{#
    The rows an incremental build writes, given `new_rows`, the relation of the touched keys'
    recomputed rows. On DuckDB: those rows (the pre-hook removed the old ones). On an engine
    that overwrites partitions: every row of the partitions those keys were or are in, the
    untouched ones kept from the current table.
#}
{% macro incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    {{ return(adapter.dispatch('incremental_rows', 'customer_value_warehouse')(
        new_rows, entity, key_columns, partition_by
    )) }}
{%- endmacro %}

{% macro duckdb__incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    select * from {{ new_rows }}
{%- endmacro %}

{#
    The table keeps its partition column last (Spark does); the union names the table's
    columns, so that both sides line up whatever the order of `new_rows`.
#}
{% macro spark__incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    {%- if not is_delta_build() %}
    select * from {{ new_rows }}
    {%- else %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    select {{ columns | join(', ') }} from {{ new_rows }}
    union all
    select
        {%- for column in columns %}
        kept.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as kept
    where
        not {{ is_touched(entity, key_columns, 'kept') }}
        and kept.{{ partition_by }} in (
            select touched_rows.{{ partition_by }}
            from {{ this }} as touched_rows
            where {{ is_touched(entity, key_columns, 'touched_rows') }}
            union
            select {{ partition_by }} from {{ new_rows }}
        )
    {%- endif %}
{%- endmacro %}

{% macro default__incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    {{ unsupported_engine('incremental_rows') }}
{%- endmacro %}
