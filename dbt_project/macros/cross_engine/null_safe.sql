{#
    True when `left` and `right` differ, an empty (null) value equal to another empty one and
    different from any value: `is distinct from`, spelt with plain comparisons that every
    engine runs the same way.
#}
{% macro values_differ(left, right) -%}
    coalesce({{ left }} <> {{ right }}, {{ left }} is not null or {{ right }} is not null)
{%- endmacro %}
