with

customer_value as (

    select * from {{ ref('customer_value') }}

),

summarised as (

    select
        period_start,
        period_end,
        segment,
        count(*) as customers,
        sum(revenue_eur) as revenue_eur,
        sum(classic_value_eur) as classic_value_eur,
        sum(value_transfer_eur) as value_transfer_eur
    from customer_value
    group by period_start, period_end, segment

),

final as (

    select
        period_start,
        period_end,
        segment,
        cast(customers as bigint) as customers,
        cast(revenue_eur as decimal(18, 4)) as revenue_eur,
        cast(classic_value_eur as decimal(18, 4)) as classic_value_eur,
        cast(value_transfer_eur as decimal(18, 4)) as value_transfer_eur
    from summarised

)

select * from final
