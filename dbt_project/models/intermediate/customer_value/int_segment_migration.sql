with

segmented as (

    select * from {{ ref('int_customer_value_segmented') }}

),

final as (

    select
        segmented.customer_id,
        segmented.period_start,
        segmented.period_end,
        segmented.previous_period_start,
        previous.segment as previous_segment,
        segmented.segment,
        coalesce(previous.segment <> segmented.segment, false) as has_changed_segment
    from segmented
    left join segmented as previous
        on
            segmented.customer_id = previous.customer_id
            and segmented.previous_period_start = previous.period_start

)

select * from final
