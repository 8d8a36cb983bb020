-- the one pass over the order lines and activities, read from the facts (costed once, when
-- they were written); incremental: a delta build recomputes the touched customers and periods
-- only (macros/incremental/), so its cost follows the delta, not the history
{%- set touched = ref('int_touched_customer_periods') %}
{#- in a delta build, the facts' rows of the touched customers and periods; else every row #}
{%- set in_scope = in_touched_customer_periods(touched, 'current_rows')
    if is_delta_build() else 'true' %}
{{ config(**scoped_incremental_config(
    "remove_touched_customer_periods(ref('int_touched_customer_periods'))", 'period_start'
)) }}

with

order_lines as (

    select current_rows.* from {{ ref('fct_order_lines') }} as current_rows
    where {{ in_scope }}

),

activities as (

    select current_rows.* from {{ ref('fct_service_activities') }} as current_rows
    where {{ in_scope }}

),

orders_per_customer_period as (

    select
        customer_id,
        period_start,
        sum(net_revenue_eur) as revenue_eur,
        sum(contribution_margin_eur) as contribution_margin_eur
    from order_lines
    group by customer_id, period_start

),

activities_per_customer_period as (

    select
        customer_id,
        period_start,
        -- unpriced activities have a null value transfer and add nothing to the sum
        coalesce(sum(value_transfer_eur), 0) as value_transfer_eur,
        sum(duration_minutes) as service_minutes,
        count(*) as service_activities,
        sum(case when is_priced then 0 else 1 end) as unpriced_activities
    from activities
    group by customer_id, period_start

),

final as (

    select
        coalesce(
            orders_per_customer_period.customer_id,
            activities_per_customer_period.customer_id
        ) as customer_id,
        coalesce(
            orders_per_customer_period.period_start,
            activities_per_customer_period.period_start
        ) as period_start,
        cast(coalesce(orders_per_customer_period.revenue_eur, 0) as decimal(18, 4))
            as revenue_eur,
        cast(coalesce(orders_per_customer_period.contribution_margin_eur, 0) as decimal(18, 4))
            as contribution_margin_eur,
        cast(coalesce(activities_per_customer_period.value_transfer_eur, 0) as decimal(18, 4))
            as value_transfer_eur,
        cast(coalesce(activities_per_customer_period.service_minutes, 0) as decimal(18, 4))
            as service_minutes,
        cast(coalesce(activities_per_customer_period.service_activities, 0) as bigint)
            as service_activities,
        cast(coalesce(activities_per_customer_period.unpriced_activities, 0) as bigint)
            as unpriced_activities
    from orders_per_customer_period
    full outer join activities_per_customer_period
        on
            orders_per_customer_period.customer_id = activities_per_customer_period.customer_id
            and orders_per_customer_period.period_start
            = activities_per_customer_period.period_start

)

select * from final
