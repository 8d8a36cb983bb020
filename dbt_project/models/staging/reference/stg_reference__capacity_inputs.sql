with

inputs as (

    {{ reference_rows('capacity_inputs') }}

),

final as (

    select
        capacity_id,
        department,
        valid_from,
        valid_to,
        capacity_cost_eur,
        -- in minutes, or people x working days x minutes per day (people to 2 places)
        cast(
            coalesce(
                cast(theoretical_minutes as decimal(18, 2)),
                people * working_days * minutes_per_day
            ) as decimal(18, 2)
        ) as theoretical_minutes,
        -- an empty share takes the var practical_capacity_share
        coalesce(practical_share, {{ practical_share_var() }}) as practical_share
    from inputs

)

select * from final
