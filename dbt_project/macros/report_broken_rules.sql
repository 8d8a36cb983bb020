{#
    After a build (on-run-end), for the load's report of a failed build (orchestration/defs/dbt/
    assets.py, `broken_rules`); the tests themselves only say how many rows they found: for
    each failed column_rules test, one line in dbt's log per broken rule and value (the first
    10), '<test name>: <rule> broken in <column> by <value> (<n> rows)'; a column that holds
    NULLs is '<test name>: not_null broken in <column> by NULL (<n> rows)'.
#}
{% macro report_broken_rules(results) %}
    {%- if execute -%}
        {%- for result in results -%}
            {%- set metadata = result.node.test_metadata -%}
            {%- if result.status == 'fail' and metadata and metadata.name == 'column_rules' -%}
                {%- set found = run_query('select * from (' ~ result.node.compiled_code
                    ~ ') as broken order by rule, column_name, value limit 10') -%}
                {%- for row in found.rows -%}
                    {{ log(result.node.name ~ ': ' ~ row[0] ~ ' broken in ' ~ row[1] ~ ' by '
                           ~ row[2] ~ ' (' ~ row[3] ~ ' rows)', info=True) }}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
