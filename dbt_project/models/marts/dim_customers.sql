with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

final as (

    select
        customer_id,
        customer_name,
        industry,
        region,
        account_manager,
        country_code,
        customer_since,
        annual_potential_eur,
        status,
        updated_at,
        extract_date as last_extract_date
    from customers

)

select * from final
