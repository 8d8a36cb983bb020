with

segments as (

    select * from {{ ref('segments') }}

),

final as (

    select
        segment,
        classic_value_level,
        value_transfer_level,
        segment_label_de,
        strategy
    from segments

)

select * from final
