{{ config(**keyed_incremental_config('orders', entity_key('orders'), 'period_start')) }}

with

order_lines as (

    select current_rows.* from {{ ref('int_order_lines') }} as current_rows
    -- in a delta build, the touched keys' rows
    where {{ is_touched('orders', entity_key('orders'), 'current_rows') }}

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
        contribution_margin_eur,
        source_file,
        line_number,
        {{ written_in_build_column() }}
    from order_lines

)

{{ incremental_rows('final', 'orders', entity_key('orders'), 'period_start') }}
