{#
    The horizon of the purchase model's forecast (`clv_horizon_months`): a whole number of
    months from 1 to 120.
#}
{% macro clv_horizon_months() -%}
    {%- set text = var('clv_horizon_months') | string | trim -%}
    {%- if not text.isdigit() or text | int < 1 or text | int > 120 -%}
        {{ exceptions.raise_compiler_error(
            "var clv_horizon_months must be a whole number of months from 1 to 120, got '"
            ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text | int if text.isdigit() else 12) }}
{%- endmacro %}
