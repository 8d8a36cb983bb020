-- The return on value transfer, per customer: what was given away in period t beside the
-- contribution margin of t and of the period after it. An association over the data, not
-- proof of cause.
with

customer_value as (

    select * from {{ ref('customer_value') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

-- every period t of the data with its following period t + 1 (the last period has none)
period_pairs as (

    select
        periods.period_start,
        next_periods.period_start as next_period_start,
        next_periods.period_end as next_period_end,
        next_periods.is_period_complete as is_next_period_complete
    from periods
    inner join periods as next_periods
        on periods.period_start = next_periods.previous_period_start

),

final as (

    select
        current_values.customer_id,
        current_values.period_start,
        current_values.period_end,
        period_pairs.next_period_start,
        period_pairs.next_period_end,
        current_values.data_through,
        period_pairs.is_next_period_complete,
        current_values.segment,
        current_values.classic_value_level,
        current_values.value_transfer_level,
        current_values.classic_value_band,
        current_values.value_transfer_band,
        current_values.value_transfer_eur,
        current_values.contribution_margin_eur,
        -- no row in t + 1: no order line there, a margin of 0
        cast(coalesce(next_values.contribution_margin_eur, 0) as decimal(18, 4))
            as next_contribution_margin_eur,
        cast(
            coalesce(next_values.contribution_margin_eur, 0)
            - current_values.contribution_margin_eur
            as decimal(18, 4)
        ) as margin_change_eur,
        next_values.customer_id is not null as has_next_period_row,
        next_values.segment as next_segment
    from customer_value as current_values
    inner join period_pairs
        on current_values.period_start = period_pairs.period_start
    left join customer_value as next_values
        on
            current_values.customer_id = next_values.customer_id
            and period_pairs.next_period_start = next_values.period_start

)

select * from final
