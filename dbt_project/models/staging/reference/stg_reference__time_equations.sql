with

equations as (

    select * from {{ ref('time_equations') }}

),

final as (

    select
        equation_id,
        service_type_code,
        driver,
        minutes
    from equations

)

select * from final
