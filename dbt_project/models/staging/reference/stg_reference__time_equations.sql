with

equations as (

    {{ reference_rows('time_equations') }}

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
