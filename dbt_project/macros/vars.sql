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
