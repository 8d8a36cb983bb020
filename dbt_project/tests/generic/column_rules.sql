{#
    The rules of one relation in one data test:
    - `not_null` (a list of columns), each column without NULLs, checked in one scan;
    - `unique` (a list of columns), each column's values unique;
    - `unique_combinations` (a list of column lists), each combination of values unique, as a
      key of several columns;
    - `accepted_values` (column: its values);
    - `relationships` (column: {to: the relation, field: its column}); in a build over the
      delta, a parent keyed by the extract whose touched keys scope the tested rows is read
      where this build wrote it (macro parent_read_where_written);
    - `expressions` (name: {expression: a condition on a row, where: the rows it applies to,
      optional}), each true on every row it applies to: a row where it is false or NULL breaks
      it. `key` (a column, or a list of them) names such a row.
    Fails with one row per broken rule and value: the rule, the column (a combination's columns
    joined by ', '; an expression's name), the value as text (a combination's values joined by
    ', ', NULL written so; the key of a row that breaks an expression, 'NULL' without `key`)
    and how many rows hold it. NULLs break none of the other single-column rules; a combination
    that occurs more than once breaks its rule, NULLs or not. One test per relation instead of
    one per column and rule: at a small delta a data test costs its compilation more than its
    query, and on Spark a query of its own; macro report_broken_rules names each broken rule in
    dbt's log when the test fails.
#}
{% test column_rules(model, not_null=[], unique=[], unique_combinations=[], accepted_values={},
                    relationships={}, expressions={}, key=none) %}

{#- (rule, column, its values or parent) of every rule, then one query per rule, each reading
    its column from the relation itself: a CTE of the whole relation, read by every rule,
    would be materialized by DuckDB (all of a fact's columns, in a full build). In a build
    over the delta on DuckDB, where `model` is the touched keys' rows of a big relation (macro
    get_where_subquery: a filter, not the relation), those rows are found once, into a
    materialized CTE of the rules' columns (of every column when the test has expressions),
    and every rule reads that: one scan of the relation for the semi-join on the touched keys
    instead of one per rule -#}
{%- set read_once = execute and target.type == 'duckdb' and cvm_build() == 'delta'
    and model is string -%}
{#- a relationship to a parent keyed by the extract whose touched keys scope the rows reads
    the parent's rows of this build alone (macro parent_read_where_written) -#}
{%- set parents_of_this_build = [] -%}
{%- if execute -%}
    {%- for column, parent in relationships.items() -%}
        {%- if parent_read_where_written(model, column, parent['to'], parent['field']) -%}
            {%- do parents_of_this_build.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if read_once -%}
    {%- set needed = [] -%}
    {%- for column in not_null + unique + (unique_combinations | sum(start=[]))
        + (accepted_values | list) + (relationships | list) -%}
        {%- if column not in needed -%}{%- do needed.append(column) -%}{%- endif -%}
    {%- endfor %}
    {#- an expression may read any column: then every column of the touched rows #}
    with touched_rows as materialized (
        select {{ '*' if expressions else needed | join(', ') }} from {{ model }}
    )
    {%- set model = 'touched_rows' -%}
{%- endif -%}
{%- set rules = [] -%}
{%- for column in unique -%}
    {%- do rules.append(('unique', column, none)) -%}
{%- endfor -%}
{%- for columns in unique_combinations -%}
    {%- do rules.append(('unique', columns | join(', '), columns)) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- do rules.append(('accepted_values', column, values)) -%}
{%- endfor -%}
{%- for column, parent in relationships.items() -%}
    {%- do rules.append(('relationships', column, parent)) -%}
{%- endfor -%}
{%- for name, rule in expressions.items() -%}
    {%- do rules.append(('expression', name, rule)) -%}
{%- endfor -%}
{%- set key_columns = ([key] if key is string else key) if key else [] -%}

{%- if not_null %}
    {#- every required column's NULLs counted in one scan, one row per column that holds one #}
    select 'not_null' as rule, counted.column_name, 'NULL' as value, counted.rows_found
    from (
        select
            required.column_name,
            case required.column_position
                {%- for column in not_null %}
                when {{ loop.index }} then null_counts.null_rows_{{ loop.index }}
                {%- endfor %}
            end as rows_found
        from (
            select
                {%- for column in not_null %}
                count(*) - count({{ column }}) as null_rows_{{ loop.index }}{{ "," if not loop.last }}
                {%- endfor %}
            from {{ model }}
        ) as null_counts
        cross join (
            {%- for column in not_null %}
            {{ "union all " if not loop.first }}select {{ loop.index }} as column_position, '{{ column }}' as column_name
            {%- endfor %}
        ) as required
    ) as counted
    where counted.rows_found > 0
{%- endif %}
{% for rule, column, detail in rules %}
    {{ "union all" if not_null or not loop.first }}
    {%- if rule == 'expression' %}
    {#- the rows it applies to where it is not true (false or NULL), by their key #}
    select
        'expression' as rule,
        '{{ column }}' as column_name,
        {% if key_columns -%}
        concat_ws(', ', {% for part in key_columns -%}
            coalesce(cast({{ part }} as {{ dbt.type_string() }}), 'NULL')
            {{- ", " if not loop.last }}{% endfor %})
        {%- else -%}
        'NULL'
        {%- endif %} as value,
        count(*) as rows_found
    from (select * from {{ model }}) as tested
    where
        {% if detail.get('where') -%}
        ({{ detail['where'] }}) and {% endif -%}
        not coalesce({{ detail['expression'] }}, false)
    {%- if key_columns %}
    group by {{ key_columns | join(', ') }}
    {%- else %}
    having count(*) > 0
    {%- endif %}
    {%- elif rule == 'unique' and detail %}
    select
        'unique' as rule,
        '{{ column }}' as column_name,
        concat_ws(', ', {% for part in detail -%}
            coalesce(cast({{ part }} as {{ dbt.type_string() }}), 'NULL')
            {{- ", " if not loop.last }}{% endfor %}) as value,
        count(*) as rows_found
    from (select {{ column }} from {{ model }}) as tested
    group by {{ column }}
    having count(*) > 1
    {%- else %}
    select
        '{{ rule }}' as rule,
        '{{ column }}' as column_name,
        cast(tested.checked as {{ dbt.type_string() }}) as value,
        count(*) as rows_found
    from (select {{ column }} as checked from {{ model }}) as tested
    {%- if rule == 'relationships' %}
        left join (select {{ detail['field'] }} as parent_key from {{ detail['to'] }}
            {%- if column in parents_of_this_build %} as parent_rows
            where {{ written_in_this_build('parent_rows') }}{% endif %}) as parent
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
    {%- endif %}
{% endfor %}

{% endtest %}
