{#
    The config and the rows of an incremental model. DuckDB deletes the touched rows (a
    pre-hook) and appends their new rows; Spark, without row deletes, overwrites whole
    partitions, and drops first (a pre-hook) every partition that the build would leave
    empty: a dynamic partition overwrite rewrites only the partitions its result has rows in,
    so a period whose rows were all cancelled or moved away would keep its old rows. No
    strategy is portable: both engines are named and `default__` raises (the rule:
    macros/cross_engine/dispatch.sql).
#}

{#
    Config of an incremental model keyed by an extract's key: the strategy and the hook that
    take the touched keys' old rows out. `partition_by` is the column by which an engine
    without row deletes overwrites whole partitions.
#}
{% macro keyed_incremental_config(entity, key_columns, partition_by) -%}
    {{ return(scoped_incremental_config(
        "remove_touched('" ~ entity ~ "', " ~ key_columns ~ ", "
        ~ ("'" ~ partition_by ~ "'" if partition_by is not none else "none") ~ ")",
        partition_by
    )) }}
{%- endmacro %}

{#
    The first day of the month of `date_column`: the partition column of the staged extracts
    (`storage_month`). An engine without row deletes rewrites the months the touched keys
    were and are in; DuckDB deletes and appends rows and never reads it.
#}
{% macro storage_month(date_column) -%}
    cast({{ dbt.date_trunc('month', date_column) }} as date)
{%- endmacro %}

{#
    Config of an incremental model whose unit is a scope: `remove_call`, the macro call (as
    text) of the pre-hook that takes the scope's old rows out (DuckDB: deletes them; Spark:
    drops the partitions the build would leave empty); `partition_by`, the column by which an
    engine without row deletes overwrites whole partitions (none: rebuilt whole).
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
        'pre_hook': '{{ ' ~ remove_call ~ ' }}',
    }) }}
{%- endmacro %}

{% macro default__scoped_incremental_config(remove_call, partition_by) -%}
    {{ unsupported_engine('scoped_incremental_config') }}
{%- endmacro %}

{#
    The pre-hook of a model keyed by an extract's key: take the touched keys' old rows out
    before their new rows are written.
#}
{% macro remove_touched(entity, key_columns, partition_by=none) -%}
    {{ adapter.dispatch('remove_touched', 'customer_value_warehouse')(
        entity, key_columns, partition_by
    ) }}
{%- endmacro %}

{# DuckDB: delete the touched keys' rows; their new rows are appended. #}
{% macro duckdb__remove_touched(entity, key_columns, partition_by) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as current_rows
        where {{ is_touched(entity, key_columns, 'current_rows') }}
    {%- endif -%}
{%- endmacro %}

{#
    Spark: drop every partition that holds the touched keys' rows and no other row. Those are
    the partitions the build could leave empty (every touched row cancelled or moved away),
    which the overwrite would not reach; a partition that also holds an untouched row is
    overwritten with that row kept (spark__incremental_rows), and one that receives a touched
    key's new row is written again by the overwrite. Nothing the build keeps is dropped.
#}
{% macro spark__remove_touched(entity, key_columns, partition_by) -%}
    {%- if partition_by is not none and is_delta_build() -%}
        {%- set emptied -%}
            select touched_rows.{{ partition_by }} from {{ this }} as touched_rows
            where {{ is_touched(entity, key_columns, 'touched_rows') }}
            except
            select kept.{{ partition_by }} from {{ this }} as kept
            where not {{ is_touched(entity, key_columns, 'kept') }}
        {%- endset -%}
        {{ drop_partitions(partition_by, emptied) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__remove_touched(entity, key_columns, partition_by) -%}
    {{ unsupported_engine('remove_touched') }}
{%- endmacro %}

{#
    Spark: the statement that drops the partitions of {{ this }} whose `partition_by` values
    the query `partitions` returns (its column `partition_by`; nothing when it returns no
    row). Run as a pre-hook, at execution time. A managed table's dropped partition loses
    its files too.
#}
{% macro drop_partitions(partition_by, partitions) -%}
    {%- if execute -%}
        {%- set values_sql -%}
            select distinct cast(found.{{ partition_by }} as string) as partition_value
            from ({{ partitions }}) as found
        {%- endset -%}
        {%- set values = run_query(values_sql).columns[0].values() | reject('none') | list -%}
        {%- if values -%}
            alter table {{ this }} drop if exists
            {%- for value in values | sort %}
            partition ({{ partition_by }} = '{{ value }}'){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endif -%}
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
