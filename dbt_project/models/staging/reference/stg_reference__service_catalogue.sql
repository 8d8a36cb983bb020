with

catalogue as (

    select * from {{ ref('service_catalogue') }}

),

final as (

    select
        service_type_code,
        name_en,
        name_de,
        category,
        cost_driver,
        customer_name_de,
        customer_name_en,
        category = 'billed_service' as is_normally_billed
    from catalogue

)

select * from final
