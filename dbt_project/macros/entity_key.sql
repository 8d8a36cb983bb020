{#
    The key of an extract (`customers`, `orders`, `service_activities`): the list of columns
    that name one delivered row, stated once for every model, hook and test that needs it.
    The extracts' spec (orchestration/lib/ingest/spec.py, `key`) is the one source; a test
    (tests/lib/ingest/test_one_source.py) holds these lists to it.
#}
{% macro entity_key(entity) -%}
    {%- set keys = {
        'customers': ['customer_id'],
        'orders': ['order_id', 'line_no'],
        'service_activities': ['activity_id'],
    } -%}
    {%- if entity not in keys -%}
        {{ exceptions.raise_compiler_error(
            "entity_key: no extract '" ~ entity ~ "'; one of " ~ (keys | list | join(', '))
        ) }}
    {%- endif -%}
    {{ return(keys[entity] | list) }}
{%- endmacro %}
