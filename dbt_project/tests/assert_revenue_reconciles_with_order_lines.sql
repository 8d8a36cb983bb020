-- Revenue and contribution margin in customer_value per period equal fct_order_lines.

-- In a build over the delta, the periods of the touched customers and periods only
-- (macros/incremental/): the rest was tested when it was written and has not changed since.

{{ config(meta={'dagster': {'ref': {'name': 'customer_value'}}}) }}
{%- set touched = ref('int_touched_customer_periods') %}

with

order_lines as (

    select tested.* from {{ ref('fct_order_lines') }} as tested
    where {{ in_touched_periods(touched, 'tested') }}

),

customer_value as (

    select tested.* from {{ ref('customer_value') }} as tested
    where {{ in_touched_periods(touched, 'tested') }}

),

order_lines_per_period as (

    select
        period_start,
        sum(net_revenue_eur) as order_revenue_eur,
        sum(contribution_margin_eur) as order_margin_eur
    from order_lines
    group by period_start

),

customer_value_per_period as (

    select
        period_start,
        sum(revenue_eur) as customer_revenue_eur,
        sum(contribution_margin_eur) as customer_margin_eur
    from customer_value
    group by period_start

),

final as (

    select
        coalesce(
            order_lines_per_period.period_start,
            customer_value_per_period.period_start
        ) as period_start,
        order_lines_per_period.order_revenue_eur,
        customer_value_per_period.customer_revenue_eur,
        order_lines_per_period.order_margin_eur,
        customer_value_per_period.customer_margin_eur
    from order_lines_per_period
    full outer join customer_value_per_period
        on order_lines_per_period.period_start = customer_value_per_period.period_start
    where
        coalesce(order_lines_per_period.order_revenue_eur, 0)
        <> coalesce(customer_value_per_period.customer_revenue_eur, 0)
        or coalesce(order_lines_per_period.order_margin_eur, 0)
        <> coalesce(customer_value_per_period.customer_margin_eur, 0)

)

select * from final
