with

customer_value as (

    select * from {{ ref('customer_value') }}

),

segments as (

    select * from {{ ref('stg_reference__segments') }}

),

periods as (

    select distinct
        period_start,
        period_end,
        data_through,
        is_period_complete
    from customer_value

),

-- every segment in every period with a customer_value row, so each period has all four
period_segments as (

    select
        periods.period_start,
        periods.period_end,
        periods.data_through,
        periods.is_period_complete,
        segments.segment
    from periods
    cross join segments

),

summarised as (

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

final as (

    select
        period_segments.period_start,
        period_segments.period_end,
        period_segments.data_through,
        period_segments.is_period_complete,
        period_segments.segment,
        cast(coalesce(summarised.customers, 0) as bigint) as customers,
        cast(coalesce(summarised.revenue_eur, 0) as decimal(18, 4)) as revenue_eur,
        cast(coalesce(summarised.classic_value_eur, 0) as decimal(18, 4)) as classic_value_eur,
        cast(coalesce(summarised.value_transfer_eur, 0) as decimal(18, 4)) as value_transfer_eur
    from period_segments
    left join summarised
        on
            period_segments.period_start = summarised.period_start
            and period_segments.segment = summarised.segment

)

select * from final
