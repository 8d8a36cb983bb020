with

inputs as (

    select * from {{ ref('stg_reference__capacity_inputs') }}

),

practical as (

    -- theoretical minutes (2 places) * share (4 places), rounded to whole minutes
    select
        *,
        cast(
            {{ divide_rounded_half_away('theoretical_minutes * practical_share', 1, 0) }}
            as {{ dbt.type_bigint() }}
        ) as practical_minutes
    from inputs

),

final as (

    -- the capacity cost rate: cost of the capacity supplied / practical capacity, per hour:
    -- capacity_cost_eur * 60 / practical_minutes, to the cent, half away from zero (an
    -- exact division while practical_minutes < 4,500,000: macro divide_rounded_half_away)
    select
        capacity_id,
        department,
        valid_from,
        valid_to,
        capacity_cost_eur,
        theoretical_minutes,
        practical_share,
        practical_minutes,
        {{ divide_rounded_half_away(
            'capacity_cost_eur * 60', 'practical_minutes', 2, numerator_scale=2
        ) }} as capacity_hourly_rate_eur
    from practical

)

select * from final
