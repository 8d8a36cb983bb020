{#
    The re-delivery rule: of all delivered versions of one key, keep one.

    - When every version of the key carries `updated_at`, the latest `updated_at` wins; on
      equal timestamps the later extract date, then the higher line number wins.
    - When any version lacks `updated_at`, timestamps cannot be compared across all
      versions, so the later extract date wins; within one extract date a version with the
      later `updated_at` (one with a timestamp before one without), then the higher line
      number wins. A cancellation re-delivered without `updated_at` therefore replaces the
      earlier version, whatever timestamp that one had.

    `relation` is a CTE (or relation) holding updated_at, extract_date and line_number;
    `key_columns` the list of key columns. Renders a complete select of the winning rows: the
    columns of `relation` plus the helper columns `versions_timestamped`, `versions_delivered`
    and `delivery_rank`, which the caller leaves out by naming its columns.

    Written with row_number() in a subquery, which every engine runs (no QUALIFY, no
    `* exclude`): the portable `default__`, so that an engine may bring a faster spelling
    (the rule: dispatch.sql).
#}
{% macro latest_delivery(relation, key_columns) -%}
    {{ return(adapter.dispatch('latest_delivery', 'customer_value_warehouse')(
        relation, key_columns
    )) }}
{%- endmacro %}

{% macro default__latest_delivery(relation, key_columns) -%}
    {%- set partition_by = key_columns | join(', ') -%}
    select ranked_versions.*
    from (
        select
            counted_versions.*,
            row_number() over (
                partition by {{ partition_by }}
                order by
                    case
                        when versions_timestamped = versions_delivered then updated_at
                    end desc nulls last,
                    extract_date desc,
                    updated_at desc nulls last,
                    line_number desc
            ) as delivery_rank
        from (
            select
                *,
                count(updated_at) over (partition by {{ partition_by }}) as versions_timestamped,
                count(*) over (partition by {{ partition_by }}) as versions_delivered
            from {{ relation }}
        ) as counted_versions
    ) as ranked_versions
    where ranked_versions.delivery_rank = 1
{%- endmacro %}

{#
    DuckDB: the same rule, with only the keys delivered more than once ranked. A key delivered
    once (in a first build over a history, nearly every key) is its own winner, so its row
    passes as it is; the window functions, which sort whole rows by key and spill them to disk
    beyond the memory budget (at 200 million activities, more than 35 GB), see only the
    versions of the repeated keys. The repeated keys are found from the key columns alone
    (never null: the ingest rejects a row without its key). Same rows and columns as the
    default, helper columns included.
#}
{% macro duckdb__latest_delivery(relation, key_columns) -%}
    {%- set keys = key_columns | join(', ') -%}
    with repeated_keys as materialized (
        select {{ keys }} from {{ relation }} group by {{ keys }} having count(*) > 1
    )

    select
        delivered_once.*,
        cast(delivered_once.updated_at is not null as bigint) as versions_timestamped,
        cast(1 as bigint) as versions_delivered,
        cast(1 as bigint) as delivery_rank
    from {{ relation }} as delivered_once
    anti join repeated_keys using ({{ keys }})

    union all

    {{ default__latest_delivery(
        '(select delivered_again.* from ' ~ relation ~ ' as delivered_again'
        ~ ' semi join repeated_keys using (' ~ keys ~ '))',
        key_columns
    ) }}
{%- endmacro %}
