-- customer_value holds exactly one row per customer and period with at least one order line
-- or one non-cancelled activity in that period: no row missing, no row extra.

{{ config(meta={'dagster': {'ref': {'name': 'customer_value'}}}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

activities as (

    select * from {{ ref('fct_service_activities') }}

),

customer_value as (

    select * from {{ ref('customer_value') }}

),

expected as (

    select
        customer_id,
        period_start
    from order_lines
    union
    select
        customer_id,
        period_start
    from activities

),

final as (

    select
        coalesce(expected.customer_id, customer_value.customer_id) as customer_id,
        coalesce(expected.period_start, customer_value.period_start) as period_start,
        expected.customer_id is not null as is_expected,
        customer_value.customer_id is not null as is_present
    from expected
    full outer join customer_value
        on
            expected.customer_id = customer_value.customer_id
            and expected.period_start = customer_value.period_start
    where expected.customer_id is null or customer_value.customer_id is null

)

select * from final
