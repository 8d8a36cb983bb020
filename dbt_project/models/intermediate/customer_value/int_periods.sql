with

customer_periods as (

    -- every period that holds an order line or a non-cancelled activity of a customer
    select * from {{ ref('int_customer_period_sums') }}

),

extracts as (

    select * from {{ ref('stg_deliveries__extracts') }}

),

bounds as (

    select
        min(period_start) as first_period_start,
        max(period_start) as last_period_start
    from customer_periods

),

loaded as (

    select max(extract_date) as data_through
    from extracts

),

spine as (

    select
        first_period_start,
        {{ integer_series(periods_between('first_period_start', 'last_period_start')) }}
            as period_number
    from bounds

),

periods as (

    select
        {{ add_months('first_period_start', 'period_number * ' ~ months_in_period()) }}
            as period_start
    from spine

),

with_ends as (

    select
        period_start,
        {{ period_end_of('period_start') }} as period_end,
        {{ previous_period_start_of('period_start') }} as previous_period_start
    from periods

),

final as (

    select
        with_ends.period_start,
        with_ends.period_end,
        with_ends.previous_period_start,
        {{ months_in_period() }} as months_in_period,
        {{ period_year_fraction() }} as period_year_fraction,
        loaded.data_through,
        coalesce(loaded.data_through >= with_ends.period_end, false) as is_period_complete,
        {{ days_between('with_ends.period_start', 'with_ends.period_end') }} + 1
            as days_in_period,
        -- the days from period_start to data_through, both included, within the period
        case
            when loaded.data_through is null or loaded.data_through < with_ends.period_start
                then 0
            when loaded.data_through >= with_ends.period_end
                then {{ days_between('with_ends.period_start', 'with_ends.period_end') }} + 1
            else {{ days_between('with_ends.period_start', 'loaded.data_through') }} + 1
        end as days_covered
    from with_ends
    cross join loaded

)

select * from final
