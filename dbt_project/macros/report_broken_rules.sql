{#
    After a build (on-run-end), for the load's report of a failed build (orchestration/defs/dbt/
    assets.py, `broken_rules`); the tests themselves only say how many rows they found: for
    each failed column_rules test, one line in dbt's log per broken rule and value,
    '<test name>: <rule> broken in <column> by <value> (<n> rows)'; a column that holds NULLs
    is '<test name>: not_null broken in <column> by NULL (<n> rows)', a broken expression
    '<test name>: expression broken in <its name> by <a key that breaks it> (<n> rows)'. At
    most `max_values` (3) values of each broken rule, and `max_lines` (20) lines in all: an
    expression broken by many rows names a few of them and leaves room for every other broken
    rule.
#}
{% macro report_broken_rules(results) %}
    {%- if execute -%}
        {%- for result in results -%}
            {%- set metadata = result.node.test_metadata -%}
            {%- if result.status == 'fail' and metadata and metadata.name == 'column_rules' -%}
                {%- set max_values, max_lines = 3, 20 -%}
                {%- set found = run_query(
                    'select rule, column_name, value, rows_found from ('
                    ~ 'select broken.*, row_number() over (partition by rule, column_name '
                    ~ 'order by value) as nth from (' ~ result.node.compiled_code
                    ~ ') as broken) as ranked where nth <= ' ~ max_values
                    ~ ' order by rule, column_name, value limit ' ~ max_lines) -%}
                {%- for row in found.rows -%}
                    {{ log(result.node.name ~ ': ' ~ row[0] ~ ' broken in ' ~ row[1] ~ ' by '
                           ~ row[2] ~ ' (' ~ row[3] ~ ' rows)', info=True) }}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
