-- a table, unlike the other staged models: its rows are few, but finding them reads the
-- extract date of every raw row, and its test, int_periods (a view under several models) and
-- customer_purchase_summary read them again (DECISIONLOG.md)
{{ config(materialized='table') }}

with

customers as (

    select extract_date from {{ source('crm', 'customers') }}

),

orders as (

    select extract_date from {{ source('crm', 'orders') }}

),

service_activities as (

    select extract_date from {{ source('service_log', 'service_activities') }}

),

extracts as (

    select distinct
        'customers' as entity,
        extract_date
    from customers
    union all
    select distinct
        'orders' as entity,
        extract_date
    from orders
    union all
    select distinct
        'service_activities' as entity,
        extract_date
    from service_activities

),

final as (

    select
        cast(entity as {{ dbt.type_string() }}) as entity,
        cast(extract_date as date) as extract_date
    from extracts

)

select * from final
