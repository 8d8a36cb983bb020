{#
    Customer and period totals over the delta. A delta build recomputes the sums of every
    customer and period that a touched order line or activity occupied before the build
    (`cvm_delta.customer_periods`, recorded by the orchestration before dbt runs: a
    correction can move a row to another customer or period) or occupies after it: the model
    int_touched_customer_periods. On DuckDB those customer-period rows are deleted and appended
    again; an engine without row deletes drops the partitions (periods) they are in and
    overwrites them, all of whose rows it recomputes, so that a period left without rows goes. Both engines are named, and `default__` raises (the
    rule: macros/cross_engine/dispatch.sql).
#}

{# The customer-period pairs the touched keys occupied before the build, as a relation. #}
{% macro customer_periods_before() -%}
    {{ return(api.Relation.create(
        database=(target.database if target.database is defined else none),
        schema='cvm_delta', identifier='customer_periods'
    )) }}
{%- endmacro %}

{#
    A condition on the row `alias` (with customer_id and period_start) of a fact or of a
    customer-period relation: in a delta build, its sums are recomputed (its customer and
    period are touched; on an engine that overwrites partitions, its period is); in any
    other build, true. `touched` is the relation int_touched_customer_periods.
#}
{% macro in_touched_customer_periods(touched, alias) -%}
    {%- if cvm_build() == 'delta' -%}
        {{ adapter.dispatch('in_touched_customer_periods', 'customer_value_warehouse')(
            touched, alias
        ) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__in_touched_customer_periods(touched, alias) -%}
    {{ is_in_relation(touched, ['customer_id', 'period_start'], alias) }}
{%- endmacro %}

{% macro spark__in_touched_customer_periods(touched, alias) -%}
    {{ in_touched_periods(touched, alias) }}
{%- endmacro %}

{% macro default__in_touched_customer_periods(touched, alias) -%}
    {{ unsupported_engine('in_touched_customer_periods') }}
{%- endmacro %}

{#
    A condition on the row `alias` (with period_start): in a delta build, its period holds a
    touched customer and period; in any other build, true. For the tests that compare totals
    per period.
#}
{% macro in_touched_periods(touched, alias) -%}
    {%- if cvm_build() == 'delta' -%}
        {{ alias }}.period_start in (select touched.period_start from {{ touched }} as touched)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# The pre-hook: take the touched customer-period rows out before they are written again. #}
{% macro remove_touched_customer_periods(touched) -%}
    {{ adapter.dispatch('remove_touched_customer_periods', 'customer_value_warehouse')(
        touched
    ) }}
{%- endmacro %}

{# DuckDB: delete the touched customer-period rows; they are appended again. #}
{% macro duckdb__remove_touched_customer_periods(touched) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as current_rows
        where {{ in_touched_customer_periods(touched, 'current_rows') }}
    {%- endif -%}
{%- endmacro %}

{#
    Spark: drop the touched periods' partitions. The build recomputes every row of those
    periods from the facts, never from this table, and the overwrite writes only the periods
    that still have rows: a period whose rows all went would otherwise keep its old sums.
#}
{% macro spark__remove_touched_customer_periods(touched) -%}
    {%- if is_delta_build() -%}
        {%- set periods -%}
            select distinct touched.period_start from {{ touched }} as touched
        {%- endset -%}
        {{ drop_partitions('period_start', periods) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__remove_touched_customer_periods(touched) -%}
    {{ unsupported_engine('remove_touched_customer_periods') }}
{%- endmacro %}
