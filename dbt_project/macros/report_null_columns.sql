{#
    After a build (on-run-end), for the load's report of a failed build (orchestration/defs/dbt/
    assets.py); the tests themselves only say how many rows they found:
    - for each failed not_null_columns test, one line in dbt's log per column that holds a
      NULL, '<test name>: <column> is NULL in <n> rows';
    - for each failed column_rules test, one line per broken rule and value (the first
      10), '<test name>: <rule> broken in <column> by <value> (<n> rows)'.
#}
{% macro report_null_columns(results) %}
    {%- if execute -%}
        {%- for result in results -%}
            {%- set metadata = result.node.test_metadata -%}
            {%- if result.status == 'fail' and metadata and metadata.name == 'not_null_columns' -%}
                {%- set found = run_query(result.node.compiled_code) -%}
                {%- for row in found.rows -%}
                    {{ log(result.node.name ~ ': ' ~ row[0] ~ ' is NULL in ' ~ row[1]
                           ~ ' rows', info=True) }}
                {%- endfor -%}
            {%- elif result.status == 'fail' and metadata and metadata.name == 'column_rules' -%}
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
