-- segment_summary holds exactly one row per period of customer_value and segment of the seed
-- `segments`, and each row equals the customer_value rows it summarises (0 when none).

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

periods as (

    select distinct period_start from customer_value

),

expected_rows as (

    select
        periods.period_start,
        segments.segment
    from periods
    cross join segments

),

customer_value_per_segment as (

    select
        period_start,
        segment,
        count(*) as customers,
        sum(revenue_eur) as revenue_eur,
        sum(classic_value_eur) as classic_value_eur,
        sum(value_transfer_eur) as value_transfer_eur
    from customer_value
    group by period_start, segment

),

expected as (

    select
        expected_rows.period_start,
        expected_rows.segment,
        coalesce(customer_value_per_segment.customers, 0) as customers,
        coalesce(customer_value_per_segment.revenue_eur, 0) as revenue_eur,
        coalesce(customer_value_per_segment.classic_value_eur, 0) as classic_value_eur,
        coalesce(customer_value_per_segment.value_transfer_eur, 0) as value_transfer_eur
    from expected_rows
    left join customer_value_per_segment
        on
            expected_rows.period_start = customer_value_per_segment.period_start
            and expected_rows.segment = customer_value_per_segment.segment

),

final as (

    select
        coalesce(summary.period_start, expected.period_start) as period_start,
        coalesce(summary.segment, expected.segment) as segment,
        summary.customers as summary_customers,
        expected.customers as customer_value_customers,
        summary.revenue_eur as summary_revenue_eur,
        expected.revenue_eur as customer_value_revenue_eur,
        summary.classic_value_eur as summary_classic_value_eur,
        expected.classic_value_eur as customer_value_classic_value_eur,
        summary.value_transfer_eur as summary_value_transfer_eur,
        expected.value_transfer_eur as customer_value_transfer_eur
    from summary
    full outer join expected
        on
            summary.period_start = expected.period_start
            and summary.segment = expected.segment
    where
        summary.customers is distinct from expected.customers
        or summary.revenue_eur is distinct from expected.revenue_eur
        or summary.classic_value_eur is distinct from expected.classic_value_eur
        or summary.value_transfer_eur is distinct from expected.value_transfer_eur

)

select * from final
