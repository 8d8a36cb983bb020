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
