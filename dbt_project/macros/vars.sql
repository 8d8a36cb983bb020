{#
    A share var (`abc_a_cutoff`, `abc_b_cutoff`, `target_share_of_wallet`) as an exact
    DECIMAL(18, 9) literal. The value must be a plain decimal number between 0 and 1 with at
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
    cast({{ text }} as decimal(18, 9))
{%- endmacro %}
