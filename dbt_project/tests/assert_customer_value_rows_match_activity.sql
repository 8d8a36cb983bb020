-- customer_value holds exactly one row per customer and period with at least one order line
-- or one non-cancelled activity in that period: no row missing, no row extra.

-- In a build over the delta, the touched customers and periods only (macros/incremental/):
-- the rest was tested when it was written and has not changed since.

{{ config(meta={'dagster': {'ref': {'name': 'customer_value'}}}) }}
{%- set touched = ref('int_touched_customer_periods') %}

with

order_lines as (

    select tested.* from {{ ref('fct_order_lines') }} as tested
    where {{ in_touched_customer_periods(touched, 'tested') }}

),

activities as (

    select tested.* from {{ ref('fct_service_activities') }} as tested
    where {{ in_touched_customer_periods(touched, 'tested') }}

),

customer_value as (

    select tested.* from {{ ref('customer_value') }} as tested
    where {{ in_touched_customer_periods(touched, 'tested') }}

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
