with

orders as (

    select current_versions.*
    from {{ ref('stg_crm__orders') }} as current_versions
    -- in a delta build, the touched order lines only (macro in_delta_scope)
    where {{ in_delta_scope('current_versions') }}

),

final as (

    select
        order_id,
        line_no,
        customer_id,
        order_date,
        {{ period_start_of('order_date') }} as period_start,
        product_group,
        net_revenue_eur,
        cost_of_goods_eur,
        cast(net_revenue_eur - cost_of_goods_eur as decimal(18, 4)) as contribution_margin_eur,
        source_file,
        line_number
    from orders

)

select * from final
