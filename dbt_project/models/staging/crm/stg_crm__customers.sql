{{ config(**keyed_incremental_config('customers', entity_key('customers'), none)) }}

with

source as {{ inline_in_full_build() }} (

    select delivered.* from {{ source('crm', 'customers') }} as delivered
    -- in a delta build, every version of the touched keys
    where {{ is_touched('customers', entity_key('customers'), 'delivered') }}

),

latest as (

    {{ latest_delivery('source', entity_key('customers')) }}

),

final as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        {{ mask_personal_data('cast(customer_name as ' ~ dbt.type_string() ~ ')') }}
            as customer_name,
        {{ mask_email('cast(industry as ' ~ dbt.type_string() ~ ')') }} as industry,
        {{ mask_email('cast(region as ' ~ dbt.type_string() ~ ')') }} as region,
        cast(account_manager as {{ dbt.type_string() }}) as account_manager,
        cast(country_code as {{ dbt.type_string() }}) as country_code,
        cast(customer_since as date) as customer_since,
        cast(annual_potential_eur as decimal(18, 4)) as annual_potential_eur,
        cast(coalesce(status, 'active') as {{ dbt.type_string() }}) as status,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(extract_date as date) as extract_date,
        cast(source_file as {{ dbt.type_string() }}) as source_file
    from latest

)

select * from final
