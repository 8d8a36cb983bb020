{#
    The rows of a controller-owned seed for this build: the seed's own, or, when the
    landing root's folder reference/ holds a file of it, that file's rows instead. The
    orchestration reads and checks such a file (lib/warehouse/reference_inputs.py) and passes
    its rows as the internal var `cvm_reference`: {seed: [[value or null, ...], ...]}, in the
    seed's column order, every value as text. They are cast to the seed's column types here,
    the same on every engine; a file without rows gives none. The seed is always referenced,
    so that the lineage and the types stay the seed's.
#}
{% macro reference_rows(seed_name) -%}
    {%- set seed = ref(seed_name) -%}
    {%- set column_types = {
        'capacity_inputs': [
            ('capacity_id', dbt.type_string()), ('department', dbt.type_string()),
            ('valid_from', 'date'), ('valid_to', 'date'),
            ('capacity_cost_eur', 'decimal(18, 2)'), ('theoretical_minutes', 'bigint'),
            ('people', 'decimal(9, 2)'), ('working_days', 'integer'),
            ('minutes_per_day', 'integer'), ('practical_share', 'decimal(5, 4)'),
        ],
        'time_equations': [
            ('equation_id', dbt.type_string()), ('service_type_code', dbt.type_string()),
            ('driver', dbt.type_string()), ('minutes', 'decimal(9, 2)'),
        ],
    } -%}
    {%- set given = var('cvm_reference', {}) -%}
    {%- if seed_name not in given -%}
        select * from {{ seed }}
    {%- elif given[seed_name] | length == 0 -%}
        select * from {{ seed }} where 1 = 0
    {%- else -%}
        {%- for row in given[seed_name] %}
            {% if not loop.first %}union all{% endif %}
            select
            {%- for column, type in column_types[seed_name] %}
                cast({{ reference_literal(row[loop.index0]) }} as {{ type }})
                as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# A value of a reference row as an SQL literal: null, or text in single quotes (the
   orchestration admits no backslash or control character in it). #}
{% macro reference_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
