{{ config(**keyed_incremental_config('orders', entity_key('orders'), 'storage_month')) }}

with

source as {{ inline_in_full_build() }} (

    select delivered.* from {{ source('crm', 'orders') }} as delivered
    -- in a delta build, every version of the touched keys
    where {{ is_touched('orders', entity_key('orders'), 'delivered') }}

),

latest as (

    {{ latest_delivery('source', entity_key('orders')) }}

),

final as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(line_no as integer) as line_no,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(order_date as date) as order_date,
        {{ mask_email('cast(product_group as ' ~ dbt.type_string() ~ ')') }} as product_group,
        cast(net_revenue_eur as decimal(18, 4)) as net_revenue_eur,
        cast(coalesce(cost_of_goods_eur, 0) as decimal(18, 4)) as cost_of_goods_eur,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(extract_date as date) as extract_date,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(line_number as bigint) as line_number,
        {{ written_in_build_column() }},
        {{ storage_month('order_date') }} as storage_month
    from latest

)

{{ incremental_rows('final', 'orders', entity_key('orders'), 'storage_month') }}
