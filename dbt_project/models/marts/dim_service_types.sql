with

catalogue as (

    select * from {{ ref('stg_reference__service_catalogue') }}

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
        is_normally_billed
    from catalogue

)

select * from final
