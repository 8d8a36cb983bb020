{{ config(**keyed_incremental_config('customers', entity_key('customers'), none)) }}

with

source as {{ inline_in_full_build() }} (

    select delivered.* from {{ source('crm', 'customers') }} as delivered
    -- in a delta build, every snapshot row of the touched customers
    where {{ is_touched('customers', entity_key('customers'), 'delivered') }}

),

per_snapshot as (

    -- one row per customer and extract date: the re-delivery rule within one delivery
    {{ latest_delivery('source', ['customer_id', 'extract_date']) }}

),

final as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(extract_date as date) as extract_date,
        cast(industry as {{ dbt.type_string() }}) as industry,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(account_manager as {{ dbt.type_string() }}) as account_manager,
        cast(country_code as {{ dbt.type_string() }}) as country_code,
        cast(coalesce(status, 'active') as {{ dbt.type_string() }}) as status,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        -- every row of the customer in this delivery carries updated_at
        versions_timestamped = versions_delivered as is_timestamped,
        cast(source_file as {{ dbt.type_string() }}) as source_file
    from per_snapshot

)

select * from final
