with

customer_value as (

    select * from {{ ref('customer_value') }}

),

with_profit as (

    select
        customer_id,
        customer_name,
        period_start,
        period_end,
        data_through,
        is_period_complete,
        segment,
        revenue_eur,
        contribution_margin_eur,
        value_transfer_eur,
        -- DB III minus the service investment: what the customer earns after the services
        -- given away (DB IV, the customer's profit after cost to serve)
        cast(contribution_margin_eur - value_transfer_eur as decimal(18, 4))
            as profit_after_service_eur,
        {{ customer_period_attribute_columns() }}
    from customer_value

),

ranked as (

    select
        *,
        row_number() over (
            partition by period_start
            order by profit_after_service_eur desc, customer_id asc
        ) as profit_rank,
        count(*) over (partition by period_start) as period_customers,
        sum(profit_after_service_eur) over (
            partition by period_start
            order by profit_after_service_eur desc, customer_id asc
            rows between unbounded preceding and current row
        ) as cumulative_profit_eur,
        sum(profit_after_service_eur) over (
            partition by period_start
        ) as period_profit_eur
    from with_profit

),

final as (

    select
        customer_id,
        customer_name,
        period_start,
        period_end,
        data_through,
        is_period_complete,
        segment,
        revenue_eur,
        contribution_margin_eur,
        value_transfer_eur,
        profit_after_service_eur,
        cast(profit_rank as bigint) as profit_rank,
        cast(profit_rank as double) / cast(period_customers as double) as customer_share,
        cast(cumulative_profit_eur as decimal(18, 4)) as cumulative_profit_eur,
        cast(period_profit_eur as decimal(18, 4)) as period_profit_eur,
        case
            when period_profit_eur > 0
                then cast(cumulative_profit_eur as double) / cast(period_profit_eur as double)
        end as cumulative_profit_share,
        {{ customer_period_attribute_columns() }}
    from ranked

)

select * from final
