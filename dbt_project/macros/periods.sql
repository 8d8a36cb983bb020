{#
    Period arithmetic, driven by the var `period_grain` (`year` or `quarter`).
    Every model that assigns a date to a period calls these macros, so the grain is
    defined in one place.
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

{# First day of the period that holds date_column. #}
{% macro period_start_of(date_column) -%}
    cast(date_trunc('{{ period_grain() }}', {{ date_column }}) as date)
{%- endmacro %}

{# Last day (inclusive) of the period that starts on period_start_column. #}
{% macro period_end_of(period_start_column) -%}
    cast({{ period_start_column }} + interval {{ months_in_period() }} month - interval 1 day as date)
{%- endmacro %}

{# First day of the period immediately before the one that starts on period_start_column. #}
{% macro previous_period_start_of(period_start_column) -%}
    cast({{ period_start_column }} - interval {{ months_in_period() }} month as date)
{%- endmacro %}

{# months_in_period / 12 as an exact decimal (1.0000 for a year, 0.2500 for a quarter). #}
{% macro period_year_fraction() -%}
    cast({{ '1.0000' if period_grain() == 'year' else '0.2500' }} as decimal(9, 4))
{%- endmacro %}
