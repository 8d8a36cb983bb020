-- a view on DuckDB: a filter (join) of the facts, no second copy to build and publish;
-- a table where the catalog cannot run its SQL (macros/cross_engine/engine_inputs.sql)
{{ config(materialized=derived_mart_materialization()) }}

with

activities as (

    select * from {{ ref('fct_service_activities') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

service_types as (

    select * from {{ ref('dim_service_types') }}

),

final as (

    select
        activities.activity_id,
        activities.customer_id,
        customers.customer_name,
        activities.activity_date,
        activities.period_start,
        activities.service_type_code,
        service_types.name_de as service_name_de,
        service_types.name_en as service_name_en,
        activities.description,
        activities.duration_minutes,
        activities.participants,
        activities.standard_cost_eur,
        activities.rate_id,
        activities.rate_source,
        activities.billed_amount_eur,
        activities.transfer_kind,
        activities.value_transfer_eur,
        activities.employee_id
    from activities
    left join customers
        on activities.customer_id = customers.customer_id
    left join service_types
        on activities.service_type_code = service_types.service_type_code

)

select * from final
