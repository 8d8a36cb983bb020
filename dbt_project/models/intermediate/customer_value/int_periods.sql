with

order_lines as (

    select * from {{ ref('int_order_lines') }}

),

activities as (

    select * from {{ ref('int_activities_costed') }}

),

used_periods as (

    select period_start from order_lines
    union all
    select period_start from activities

),

bounds as (

    select
        min(period_start) as first_period_start,
        max(period_start) as last_period_start
    from used_periods

),

spine as (

    select
        cast(
            unnest(
                generate_series(
                    first_period_start,
                    last_period_start,
                    interval {{ months_in_period() }} month
                )
            ) as date
        ) as period_start
    from bounds

),

final as (

    select
        period_start,
        {{ period_end_of('period_start') }} as period_end,
        {{ previous_period_start_of('period_start') }} as previous_period_start,
        {{ months_in_period() }} as months_in_period,
        {{ period_year_fraction() }} as period_year_fraction
    from spine

)

select * from final
