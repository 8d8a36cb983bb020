{#
    Re-delivery rule of the contract: of all delivered versions of one key, keep one.

    - When every version of the key carries `updated_at`, the latest `updated_at` wins; on
      equal timestamps the later extract date, then the higher line number wins.
    - When any version lacks `updated_at`, timestamps cannot be compared across all
      versions, so the later extract date wins; within one extract date a version with the
      later `updated_at` (one with a timestamp before one without), then the higher line
      number wins. A cancellation re-delivered without `updated_at` therefore replaces the
      earlier version, whatever timestamp that one had.

    `relation` is a CTE (or relation) holding updated_at, extract_date and line_number;
    `key_columns` the list of key columns. Renders a complete select of the winning rows
    with the columns of `relation`.
#}
{% macro latest_delivery(relation, key_columns) -%}
    {%- set partition_by = key_columns | join(', ') -%}
    select * exclude (all_versions_timestamped)
    from (
        select
            *,
            bool_and(updated_at is not null) over (
                partition by {{ partition_by }}
            ) as all_versions_timestamped
        from {{ relation }}
    ) as versions
    qualify row_number() over (
        partition by {{ partition_by }}
        order by
            case when all_versions_timestamped then updated_at end desc nulls last,
            extract_date desc,
            updated_at desc nulls last,
            line_number desc
    ) = 1
{%- endmacro %}
