{#
    Seeds on Spark. dbt-spark's own seed loader pastes every value between quotes without
    escaping, so a text with an apostrophe ("the customer's plant") breaks the insert and an
    empty cell becomes the text 'None'. This version renders each value as a proper Spark
    literal: null for an empty cell, numbers as they are, text quoted with its backslashes
    and quotes escaped. The project's dispatch order (dbt_project.yml) puts it before
    dbt-spark's. A seed without rows (source_customer_ids.csv where no system's ids differ)
    inserts nothing.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for value in row -%}
                    {%- set column_name = agate_table.column_names[loop.index0] -%}
                    {%- set column_type = column_override.get(
                        column_name, adapter.convert_type(agate_table, loop.index0)
                    ) -%}
                    cast(
                    {%- if value is none -%}
                        null
                    {%- elif value is number -%}
                        {{ value }}
                    {%- else -%}
                        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
                    {%- endif %} as {{ column_type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}
                ){%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
