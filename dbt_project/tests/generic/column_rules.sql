{#
    The column rules of one relation in one data test: `unique` (a list of columns),
    `accepted_values` (column: its values) and `relationships` (column: {to: the relation,
    field: its column}). Fails with one row per broken rule and value: the rule, the column,
    the value (as text) and how many rows hold it. NULLs break none of these rules (a relation's
    required columns are its not_null_columns test). One test per relation instead of one per
    column and rule: at a small delta a data test costs its compilation more than its query;
    macro report_null_columns names each broken rule in dbt's log when the test fails.
#}
{% test column_rules(model, unique=[], accepted_values={}, relationships={}) %}

{#- (rule, column, its values or parent) of every rule, then one query per rule, each reading
    its column from the relation itself: a CTE of the whole relation, read by every rule,
    would be materialized by DuckDB (all of a fact's columns, in a full build) -#}
{%- set rules = [] -%}
{%- for column in unique -%}
    {%- do rules.append(('unique', column, none)) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- do rules.append(('accepted_values', column, values)) -%}
{%- endfor -%}
{%- for column, parent in relationships.items() -%}
    {%- do rules.append(('relationships', column, parent)) -%}
{%- endfor -%}

{% for rule, column, detail in rules %}
    {{ "union all" if not loop.first }}
    select
        '{{ rule }}' as rule,
        '{{ column }}' as column_name,
        cast(tested.checked as {{ dbt.type_string() }}) as value,
        count(*) as rows_found
    from (select {{ column }} as checked from {{ model }}) as tested
    {%- if rule == 'relationships' %}
        left join (select {{ detail['field'] }} as parent_key from {{ detail['to'] }}) as parent
            on tested.checked = parent.parent_key
    {%- endif %}
    where
        tested.checked is not null
        {%- if rule == 'accepted_values' %}
            and tested.checked not in (
                {%- for value in detail %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
            )
        {%- elif rule == 'relationships' %}
            and parent.parent_key is null
        {%- endif %}
    group by tested.checked
    {%- if rule == 'unique' %}
        having count(*) > 1
    {%- endif %}
{% endfor %}

{% endtest %}
