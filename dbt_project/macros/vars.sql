{#
    A share var (`abc_a_cutoff`, `abc_b_cutoff`, `target_share_of_wallet`) as an exact
    DECIMAL(10, 9) literal. The value must be a plain decimal number between 0 and 1 with at
    most 9 decimal places; anything else fails compilation instead of being rounded
    silently.
#}
{% macro share_var(name) -%}
    {%- set text = var(name) | string | trim -%}
    {%- set parts = text.split('.') -%}
    {%- set is_plain_decimal = (
        parts | length <= 2
        and parts[0].isdigit()
        and (parts | length == 1 or (parts[1].isdigit() and parts[1] | length <= 9))
    ) -%}
    {%- if not is_plain_decimal or text | float > 1 -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a decimal number between 0 and 1 with at most 9 "
            ~ "decimal places, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    cast({{ text }} as decimal(10, 9))
{%- endmacro %}

{#
    Number of bands per axis of the finer portfolio grid (`grid_classic_value_bands`,
    `grid_value_transfer_bands`): a whole number from 2 to 10.
#}
{% macro grid_bands_var(name) -%}
    {%- set text = var(name) | string | trim -%}
    {%- if not text.isdigit() or text | int < 2 or text | int > 10 -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number from 2 to 10, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {#- (only a linter, whose exceptions do not stop, gets here with an invalid value) -#}
    {{ return(text | int if text.isdigit() else 2) }}
{%- endmacro %}

{# The var `running_period_basis`: `full` or `to_date`. #}
{% macro running_period_basis() -%}
    {%- set basis = var('running_period_basis') | string | lower | trim -%}
    {%- if basis not in ['full', 'to_date'] -%}
        {{ exceptions.raise_compiler_error(
            "var running_period_basis must be 'full' or 'to_date', got '" ~ basis ~ "'"
        ) }}
    {%- endif -%}
    {{ return(basis) }}
{%- endmacro %}

{#
    The var `practical_capacity_share` as an exact DECIMAL(5, 4) literal: a plain decimal
    between 0 and 1 with at most 4 decimal places (practical minutes are whole minutes of
    theoretical minutes * share, rounded exactly; macro divide_rounded_half_away).
#}
{% macro practical_share_var() -%}
    {%- set text = var('practical_capacity_share') | string | trim -%}
    {%- set parts = text.split('.') -%}
    {%- set is_plain_decimal = (
        parts | length <= 2
        and parts[0].isdigit()
        and (parts | length == 1 or (parts[1].isdigit() and parts[1] | length <= 4))
    ) -%}
    {%- if not is_plain_decimal or text | float > 1 or text | float <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "var practical_capacity_share must be a decimal number above 0 and at most 1 "
            ~ "with at most 4 decimal places, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    cast({{ text }} as decimal(5, 4))
{%- endmacro %}

{# The var `costed_minutes`: `logged` or `time_equation`. #}
{% macro costed_minutes() -%}
    {%- set source = var('costed_minutes') | string | lower | trim -%}
    {%- if source not in ['logged', 'time_equation'] -%}
        {{ exceptions.raise_compiler_error(
            "var costed_minutes must be 'logged' or 'time_equation', got '" ~ source ~ "'"
        ) }}
    {%- endif -%}
    {{ return(source) }}
{%- endmacro %}
