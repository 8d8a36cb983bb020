with

orders as (

    select * from {{ ref('stg_crm__orders') }}

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
