-- Per period, segment_summary adds up to customer_value: as many customers and the same
-- revenue, classic value and value transfer over its segments, and one row per segment of
-- the seed `segments`. The split between segments is recomputed independently, in Python,
-- by tests/test_dbt_project.py.

{{ config(meta={'dagster': {'ref': {'name': 'segment_summary'}}}) }}

with

summary as (

    select * from {{ ref('segment_summary') }}

),

customer_value as (

    select * from {{ ref('customer_value') }}

),

segments as (

    select * from {{ ref('segments') }}

),

seed as (

    select count(*) as segment_rows
    from segments

),

summary_per_period as (

    select
        period_start,
        count(*) as segment_rows,
        sum(customers) as customers,
        sum(revenue_eur) as revenue_eur,
        sum(classic_value_eur) as classic_value_eur,
        sum(value_transfer_eur) as value_transfer_eur
    from summary
    group by period_start

),

customer_value_per_period as (

    select
        customer_value.period_start,
        any_value(seed.segment_rows) as segment_rows,
        count(*) as customers,
        sum(customer_value.revenue_eur) as revenue_eur,
        sum(customer_value.classic_value_eur) as classic_value_eur,
        sum(customer_value.value_transfer_eur) as value_transfer_eur
    from customer_value
    cross join seed
    group by customer_value.period_start

),

final as (

    select
        coalesce(
            summary_per_period.period_start,
            customer_value_per_period.period_start
        ) as period_start,
        summary_per_period.segment_rows as summary_segment_rows,
        customer_value_per_period.segment_rows as seed_segments,
        summary_per_period.customers as summary_customers,
        customer_value_per_period.customers as customer_value_customers,
        summary_per_period.revenue_eur as summary_revenue_eur,
        customer_value_per_period.revenue_eur as customer_value_revenue_eur,
        summary_per_period.classic_value_eur as summary_classic_value_eur,
        customer_value_per_period.classic_value_eur as customer_value_classic_value_eur,
        summary_per_period.value_transfer_eur as summary_value_transfer_eur,
        customer_value_per_period.value_transfer_eur as customer_value_transfer_eur
    from summary_per_period
    full outer join customer_value_per_period
        on summary_per_period.period_start = customer_value_per_period.period_start
    where
        summary_per_period.segment_rows is distinct from customer_value_per_period.segment_rows
        or summary_per_period.customers is distinct from customer_value_per_period.customers
        or summary_per_period.revenue_eur is distinct from customer_value_per_period.revenue_eur
        or summary_per_period.classic_value_eur
        is distinct from customer_value_per_period.classic_value_eur
        or summary_per_period.value_transfer_eur
        is distinct from customer_value_per_period.value_transfer_eur

)

select * from final
