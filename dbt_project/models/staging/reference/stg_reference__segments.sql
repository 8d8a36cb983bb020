with

segments as (

    select * from {{ ref('segments') }}

),

final as (

    select
        segment,
        classic_value_level,
        value_transfer_level,
        display_order,
        segment_label_de,
        segment_label_en,
        strategy,
        strategy_de
    from segments

)

select * from final
