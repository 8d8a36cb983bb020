{#
    Custom schemas are used as they are: a model configured with schema `marts` lands in
    schema `marts`, not in `<target schema>_marts`. Analysts and the orchestration rely on
    the fixed names `marts`, `staging`, `intermediate` and `reference`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
