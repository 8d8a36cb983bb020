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
        {{ customer_period_attribute_columns('attributes') }}
    from migration
    left join attributes
        on
            migration.customer_id = attributes.customer_id
            and migration.period_start = attributes.period_start

)

select * from final
