with

migration as (

    select * from {{ ref('int_segment_migration') }}

),

attributes as (

    -- today's attributes and those valid in the period (dim_customers_history)
    select * from {{ ref('int_customer_period_attributes') }}

),

final as (

    select
        migration.customer_id,
        migration.period_start,
        migration.period_end,
        migration.previous_period_start,
        migration.previous_segment,
        migration.segment,
        migration.has_changed_segment,
        attributes.industry,
        attributes.region,
        attributes.account_manager,
        attributes.country_code,
        attributes.status,
        attributes.attributes_as_of,
        attributes.attributes_valid_from,
        attributes.industry_in_period,
        attributes.region_in_period,
        attributes.account_manager_in_period,
        attributes.country_code_in_period,
        attributes.status_in_period
    from migration
    left join attributes
        on
            migration.customer_id = attributes.customer_id
            and migration.period_start = attributes.period_start

)

select * from final
