with

segmented as (

    select * from {{ ref('int_customer_value_segmented') }}

),

final as (

    select
        customer_id,
        customer_name,
        period_start,
        period_end,
        cast(months_in_period as integer) as months_in_period,
        data_through,
        is_period_complete,
        cast(days_in_period as integer) as days_in_period,
        cast(days_covered as integer) as days_covered,
        revenue_eur,
        contribution_margin_eur,
        annual_potential_eur,
        share_of_wallet,
        cast(revenue_rank as bigint) as revenue_rank,
        share_before,
        abc_class,
        customer_since,
        is_new_customer,
        potential_value_eur,
        cast(classic_basis_eur as decimal(18, 4)) as classic_basis_eur,
        cast(classic_value_eur as decimal(18, 4)) as classic_value_eur,
        value_transfer_eur,
        service_minutes,
        service_activities,
        unpriced_activities,
        cast(classic_threshold as decimal(18, 6)) as classic_threshold,
        cast(value_transfer_threshold as decimal(18, 6)) as value_transfer_threshold,
        classic_value_level,
        value_transfer_level,
        segment,
        segment_label_de,
        segment_label_en,
        strategy,
        strategy_de,
        classic_value_band,
        value_transfer_band
    from segmented

)

select * from final
