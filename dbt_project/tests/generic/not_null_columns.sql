{#
    Fails with one row per listed column that holds a NULL: the column's name and how many
    rows hold one. One scan of the relation for all of its required columns (one data test
    per relation instead of one per column); the failing rows name the columns, and macro
    report_null_columns names them in dbt's log when the test fails.
#}
{% test not_null_columns(model, column_names) %}

with

null_counts as (

    select {% for column in column_names %}count(*) - count({{ column }}) as null_rows_{{ loop.index }}{{ ", " if not loop.last }}{% endfor %}
    from {{ model }}

),

checked_columns as (

    {% for column in column_names %}select {{ loop.index }} as column_position, '{{ column }}' as column_name{{ " union all " if not loop.last }}{% endfor %}

),

found as (

    select
        checked_columns.column_name,
        case checked_columns.column_position {% for column in column_names %}when {{ loop.index }} then null_counts.null_rows_{{ loop.index }} {% endfor %}end as null_rows
    from checked_columns
    cross join null_counts

)

select * from found
where null_rows > 0

{% endtest %}
