{#
    After a build (on-run-end): for each failed not_null_columns test, one line in dbt's log
    per column that holds a NULL, '<test name>: <column> is NULL in <n> rows'. The test itself
    only says how many of its columns failed; the load's report of a failed build takes the
    columns from these lines (orchestration/defs/dbt/assets.py).
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
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
