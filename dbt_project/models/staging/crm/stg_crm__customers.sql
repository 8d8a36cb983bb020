{{ config(**keyed_incremental_config('customers', ['customer_id'], none)) }}

with

source as (

    select * from {{ source('crm', 'customers') }} as delivered
    -- in a delta build, every version of the touched keys
    where {{ is_touched('customers', ['customer_id'], 'delivered') }}

),

latest as (

    {{ latest_delivery('source', ['customer_id']) }}

),

final as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(customer_name as varchar) as customer_name,
        cast(industry as varchar) as industry,
        cast(region as varchar) as region,
        cast(account_manager as varchar) as account_manager,
        cast(country_code as varchar) as country_code,
        cast(customer_since as date) as customer_since,
        cast(annual_potential_eur as decimal(18, 4)) as annual_potential_eur,
        cast(coalesce(status, 'active') as varchar) as status,
        cast(updated_at as timestamp) as updated_at,
        cast(extract_date as date) as extract_date,
        cast(source_file as varchar) as source_file
    from latest

)

select * from final
