with

migration as (

    select * from {{ ref('int_segment_migration') }}

),

final as (

    select
        customer_id,
        period_start,
        period_end,
        previous_period_start,
        previous_segment,
        segment,
        has_changed_segment
    from migration

)

select * from final
