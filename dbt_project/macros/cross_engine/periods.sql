{#
    Period arithmetic, driven by the var `period_grain` (`year` or `quarter`).
    Every model that assigns a date to a period calls these macros, so the grain is
    defined in one place. Date arithmetic goes through dbt's cross-database macros; they
    return timestamps on some engines, so every result is cast back to a date: the portable
    `default__` of each dispatched macro (the rule: dispatch.sql).
#}

{% macro period_grain() -%}
    {%- set grain = var('period_grain') | lower -%}
    {%- if grain not in ['year', 'quarter'] -%}
        {{ exceptions.raise_compiler_error(
            "var period_grain must be 'year' or 'quarter', got '" ~ grain ~ "'"
        ) }}
    {%- endif -%}
    {{ return(grain) }}
{%- endmacro %}

{% macro months_in_period() -%}
    {{ return(12 if period_grain() == 'year' else 3) }}
{%- endmacro %}

{#
    date_column + months months, as a date. Month arithmetic keeps the day of the month,
    or the last day of a shorter month (2025-03-31 - 1 month = 2025-02-28) on every engine.
#}
{% macro add_months(date_column, months) -%}
    {{ return(adapter.dispatch('add_months', 'customer_value_warehouse')(date_column, months)) }}
{%- endmacro %}

{% macro default__add_months(date_column, months) -%}
    cast({{ dbt.dateadd('month', months, date_column) }} as date)
{%- endmacro %}

{# date_column + days days, as a date. #}
{% macro add_days(date_column, days) -%}
    {{ return(adapter.dispatch('add_days', 'customer_value_warehouse')(date_column, days)) }}
{%- endmacro %}

{% macro default__add_days(date_column, days) -%}
    cast({{ dbt.dateadd('day', days, date_column) }} as date)
{%- endmacro %}

{# Days from first_date to second_date (0 on the same day), as a whole number. #}
{% macro days_between(first_date, second_date) -%}
    {{ return(adapter.dispatch('days_between', 'customer_value_warehouse')(
        first_date, second_date
    )) }}
{%- endmacro %}

{% macro default__days_between(first_date, second_date) -%}
    cast(({{ dbt.datediff(first_date, second_date, 'day') }}) as integer)
{%- endmacro %}

{# First day of the period that holds date_column. #}
{% macro period_start_of(date_column) -%}
    cast({{ dbt.date_trunc(period_grain(), date_column) }} as date)
{%- endmacro %}

{# Last day (inclusive) of the period that starts on period_start_column. #}
{% macro period_end_of(period_start_column) -%}
    {{ add_days(add_months(period_start_column, months_in_period()), -1) }}
{%- endmacro %}

{# First day of the period immediately before the one that starts on period_start_column. #}
{% macro previous_period_start_of(period_start_column) -%}
    {{ add_months(period_start_column, -months_in_period()) }}
{%- endmacro %}

{#
    Whole periods from the period starting on first_period_start to the one starting on
    last_period_start (0 when they are the same). Month differences between first days of
    months are exact on every engine.
#}
{% macro periods_between(first_period_start, last_period_start) -%}
    cast(
        ({{ dbt.datediff(first_period_start, last_period_start, 'month') }})
        / {{ months_in_period() }}
        as integer
    )
{%- endmacro %}

{# months_in_period / 12 as an exact decimal (1.00 for a year, 0.25 for a quarter). #}
{% macro period_year_fraction() -%}
    cast({{ '1.00' if period_grain() == 'year' else '0.25' }} as decimal(3, 2))
{%- endmacro %}
