-- segment_summary per period and segment equals the customer_value rows it summarises.

{{ config(meta={'dagster': {'ref': {'name': 'segment_summary'}}}) }}

with

summary as (

    select * from {{ ref('segment_summary') }}

),

customer_value as (

    select * from {{ ref('customer_value') }}

),

customer_value_per_segment as (

    select
        period_start,
        segment,
        count(*) as customers,
        sum(revenue_eur) as revenue_eur,
        sum(value_transfer_eur) as value_transfer_eur
    from customer_value
    group by period_start, segment

),

final as (

    select
        coalesce(summary.period_start, customer_value_per_segment.period_start) as period_start,
        coalesce(summary.segment, customer_value_per_segment.segment) as segment,
        summary.customers as summary_customers,
        customer_value_per_segment.customers as customer_value_customers,
        summary.revenue_eur as summary_revenue_eur,
        customer_value_per_segment.revenue_eur as customer_value_revenue_eur,
        summary.value_transfer_eur as summary_value_transfer_eur,
        customer_value_per_segment.value_transfer_eur as customer_value_transfer_eur
    from summary
    full outer join customer_value_per_segment
        on
            summary.period_start = customer_value_per_segment.period_start
            and summary.segment = customer_value_per_segment.segment
    where
        summary.customers is distinct from customer_value_per_segment.customers
        or summary.revenue_eur is distinct from customer_value_per_segment.revenue_eur
        or summary.value_transfer_eur is distinct from customer_value_per_segment.value_transfer_eur

)

select * from final
