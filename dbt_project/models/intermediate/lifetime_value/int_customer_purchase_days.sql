-- a purchase is a day on which the customer has at least one current order line: the day's
-- lines merged into one purchase. Incremental, as int_customer_period_sums: a delta build
-- recomputes the days of the touched customers and periods only (macros/incremental/), so
-- that its cost follows the delta; as a view, its test and customer_purchase_summary grouped
-- every order line of the history again in every night (DECISIONLOG.md)
{%- set touched = ref('int_touched_customer_periods') %}
{#- in a delta build, the order lines of the touched customers and periods; else every one #}
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

final as (

    select
        customer_id,
        order_date as purchase_date,
        -- the period of the day, by which the delta build finds it
        period_start,
        count(*) as order_lines,
        sum(net_revenue_eur) as revenue_eur,
        sum(contribution_margin_eur) as contribution_margin_eur
    from order_lines
    group by customer_id, order_date, period_start

)

select * from final
