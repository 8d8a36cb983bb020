with

order_lines as (

    select * from {{ ref('int_order_lines') }}

),

final as (

    select
        order_id,
        line_no,
        customer_id,
        order_date,
        period_start,
        product_group,
        net_revenue_eur,
        cost_of_goods_eur,
        contribution_margin_eur
    from order_lines

)

select * from final
