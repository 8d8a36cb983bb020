with

segmented as (

    select * from {{ ref('int_customer_value_segmented') }}

),

attributes as (

    -- today's attributes and those valid in the period (dim_customers_history)
    select * from {{ ref('int_customer_period_attributes') }}

),

final as (

    select
        segmented.customer_id,
        segmented.customer_name,
        segmented.period_start,
        segmented.period_end,
        cast(segmented.months_in_period as integer) as months_in_period,
        segmented.data_through,
        segmented.is_period_complete,
        cast(segmented.days_in_period as integer) as days_in_period,
        cast(segmented.days_covered as integer) as days_covered,
        segmented.revenue_eur,
        segmented.contribution_margin_eur,
        segmented.annual_potential_eur,
        segmented.share_of_wallet,
        cast(segmented.revenue_rank as bigint) as revenue_rank,
        segmented.share_before,
        segmented.abc_class,
        segmented.customer_since,
        segmented.is_new_customer,
        segmented.potential_value_eur,
        segmented.potential_source,
        segmented.model_potential_value_eur,
        cast(segmented.classic_basis_eur as decimal(18, 4)) as classic_basis_eur,
        cast(segmented.classic_value_eur as decimal(18, 4)) as classic_value_eur,
        segmented.value_transfer_eur,
        segmented.service_minutes,
        segmented.service_activities,
        segmented.unpriced_activities,
        cast(segmented.classic_threshold as decimal(18, 6)) as classic_threshold,
        cast(segmented.value_transfer_threshold as decimal(18, 6)) as value_transfer_threshold,
        segmented.classic_value_level,
        segmented.value_transfer_level,
        segmented.segment,
        segmented.segment_label_de,
        segmented.segment_label_en,
        segmented.strategy,
        segmented.strategy_de,
        segmented.classic_value_band,
        segmented.value_transfer_band,
        {{ customer_period_attribute_columns('attributes') }}
    from segmented
    left join attributes
        on
            segmented.customer_id = attributes.customer_id
            and segmented.period_start = attributes.period_start

)

select * from final
