{#
    Continuous quantiles (linear interpolation between the two nearest rows, as
    quantile_cont / percentile_cont define them) of value_column per partition_column, cut
    into `parts` equal parts: the cut-offs k/parts for k = 1 .. parts - 1. parts = 2 gives
    the median, 3 the terciles.

    For n rows sorted ascending (positions 1..n) the cut-off k/parts lies at position
    1 + (n - 1) * k / parts. With (n - 1) * k = parts * whole + remainder it is
        (value[1 + whole] * (parts - remainder) + value[2 + whole] * remainder) / parts,
    rounded to 6 decimals half away from zero in exact arithmetic. A median of values with
    up to 4 decimals is exact; a tercile is rounded at the 6th decimal.

    The engines' own functions do not agree to the last decimal (DuckDB truncates to the
    input's scale, Spark returns a DOUBLE), so this one definition serves every engine: the
    portable `default__` (the rule: dispatch.sql).

    Renders a complete select with the columns `partition_column`, quantile_rank (k) and
    quantile_value (DECIMAL(18, 6)). value_column must not be null and have at most 6
    decimals.
#}
{% macro continuous_quantiles(relation, partition_column, value_column, parts) -%}
    {{ return(adapter.dispatch('continuous_quantiles', 'customer_value_warehouse')(
        relation, partition_column, value_column, parts
    )) }}
{%- endmacro %}

{% macro default__continuous_quantiles(relation, partition_column, value_column, parts) -%}
    {%- set parts = parts | int -%}
    {%- set rank_rows = [] -%}
    {%- for rank in range(1, parts) -%}
        {%- do rank_rows.append('select ' ~ rank ~ ' as quantile_rank') -%}
    {%- endfor -%}
    select
        bracketing.{{ partition_column }},
        bracketing.quantile_rank,
        {{ divide_rounded_half_away('bracketing.quantile_times_parts', parts, 6) }}
            as quantile_value
    from (
        select
            *,
            lower_value * ({{ parts }} - remainder)
            + coalesce(upper_value, lower_value) * remainder as quantile_times_parts
        from (
            select
                quantile_positions.{{ partition_column }},
                quantile_positions.quantile_rank,
                quantile_positions.remainder,
                max(
                    case
                        when sorted_values.value_position = quantile_positions.lower_position
                            then sorted_values.quantile_input
                    end
                ) as lower_value,
                max(
                    case
                        when sorted_values.value_position = quantile_positions.lower_position + 1
                            then sorted_values.quantile_input
                    end
                ) as upper_value
            from (
                select
                    row_counts.{{ partition_column }},
                    quantile_ranks.quantile_rank,
                    -- whole part of (n - 1) * k / parts: an exact multiple divided exactly
                    1 + cast(
                        (
                            (row_counts.row_count - 1) * quantile_ranks.quantile_rank
                            - ((row_counts.row_count - 1) * quantile_ranks.quantile_rank) % {{ parts }}
                        ) / {{ parts }}
                        as bigint
                    ) as lower_position,
                    ((row_counts.row_count - 1) * quantile_ranks.quantile_rank) % {{ parts }}
                    as remainder
                from (
                    select
                        {{ partition_column }},
                        count(*) as row_count
                    from {{ relation }}
                    group by {{ partition_column }}
                ) as row_counts
                cross join (
                    {{ rank_rows | join(' union all ') }}
                ) as quantile_ranks
            ) as quantile_positions
            inner join (
                select
                    {{ partition_column }},
                    {{ value_column }} as quantile_input,
                    row_number() over (
                        partition by {{ partition_column }}
                        order by {{ value_column }}
                    ) as value_position
                from {{ relation }}
            ) as sorted_values
                on
                    quantile_positions.{{ partition_column }} = sorted_values.{{ partition_column }}
                    and sorted_values.value_position >= quantile_positions.lower_position
                    and sorted_values.value_position <= quantile_positions.lower_position + 1
            group by
                quantile_positions.{{ partition_column }},
                quantile_positions.quantile_rank,
                quantile_positions.remainder
        ) as bracketed
    ) as bracketing
{%- endmacro %}
