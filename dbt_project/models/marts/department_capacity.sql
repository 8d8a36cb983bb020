with

capacity as (

    select * from {{ ref('int_capacity_versions') }}

),

activities as (

    select * from {{ ref('fct_service_activities') }}

),

steps as (

    select 0 as step
    union all
    select 1 as step
    union all
    select 2 as step
    union all
    select 3 as step
    union all
    select 4 as step

),

periods as (

    -- every period a capacity version touches: a version lasts a year at most (a data test
    -- of the seed), so at most five quarters from the period of its first day
    select
        capacity.capacity_id,
        {{ add_months(
            period_start_of('capacity.valid_from'), 'steps.step * ' ~ months_in_period()
        ) }} as period_start
    from capacity
    cross join steps

),

version_periods as (

    -- a version's part in a period: its days in the period out of all its days
    select
        capacity.*,
        periods.period_start,
        case
            when capacity.valid_from > periods.period_start then capacity.valid_from
            else periods.period_start
        end as part_from,
        case
            when capacity.valid_to < {{ add_months('periods.period_start', months_in_period()) }}
                then capacity.valid_to
            else {{ add_months('periods.period_start', months_in_period()) }}
        end as part_to
    from capacity
    inner join periods on capacity.capacity_id = periods.capacity_id

),

parts as (

    -- cost and practical minutes pro rata for the days (all of them when the version lies
    -- within the period), rounded half away from zero to the cent and the whole minute
    select
        *,
        {{ divide_rounded_half_away(
            'capacity_cost_eur * ' ~ days_between('part_from', 'part_to'),
            days_between('valid_from', 'valid_to'), 2, numerator_scale=2
        ) }} as part_cost_eur,
        cast({{ divide_rounded_half_away(
            'practical_minutes * ' ~ days_between('part_from', 'part_to'),
            days_between('valid_from', 'valid_to'), 0, numerator_scale=0
        ) }} as {{ dbt.type_bigint() }}) as part_practical_minutes,
        {{ divide_rounded_half_away(
            '(capacity_cost_eur - capacity_cost_eur * practical_share) * '
            ~ days_between('part_from', 'part_to'),
            days_between('valid_from', 'valid_to'), 2
        ) }} as part_non_practical_cost_eur
    from version_periods
    where part_from < part_to

),

used as (

    -- the minutes the department's activities used in each part, and their cost at the
    -- capacity cost rate: the time part of the standard cost of an activity priced at the
    -- department's derived rate (its fixed parts are not capacity)
    select
        parts.capacity_id,
        parts.period_start,
        count(activities.activity_id) as activities,
        sum(activities.costed_minutes) as used_minutes,
        sum(case when activities.transfer_kind = 'free' then activities.costed_minutes end)
            as free_minutes,
        sum(case when activities.transfer_kind = 'discounted' then activities.costed_minutes end)
            as discounted_minutes,
        sum(case when activities.transfer_kind = 'billed' then activities.costed_minutes end)
            as billed_minutes,
        sum(case when not activities.is_priced then activities.costed_minutes end)
            as unpriced_minutes,
        sum({{ divide_rounded_half_away(
            'activities.costed_minutes * parts.capacity_hourly_rate_eur', 60, 2
        ) }}) as assigned_cost_eur,
        sum(case when activities.transfer_kind in ('free', 'discounted') then {{
            divide_rounded_half_away(
                'activities.costed_minutes * parts.capacity_hourly_rate_eur', 60, 2
            ) }} end) as value_transfer_cost_eur
    from parts
    inner join activities
        on
            parts.department = activities.department
            and parts.part_from <= activities.activity_date
            and parts.part_to > activities.activity_date
    group by parts.capacity_id, parts.period_start

),

part_lines as (

    select
        parts.department,
        parts.period_start,
        parts.part_cost_eur,
        parts.part_practical_minutes,
        parts.part_non_practical_cost_eur,
        coalesce(used.activities, 0) as activities,
        cast(coalesce(used.used_minutes, 0) as decimal(18, 4)) as used_minutes,
        coalesce(used.free_minutes, 0) as free_minutes,
        coalesce(used.discounted_minutes, 0) as discounted_minutes,
        coalesce(used.billed_minutes, 0) as billed_minutes,
        coalesce(used.unpriced_minutes, 0) as unpriced_minutes,
        coalesce(used.assigned_cost_eur, 0) as assigned_cost_eur,
        coalesce(used.value_transfer_cost_eur, 0) as value_transfer_cost_eur,
        -- unused minutes (negative when the department worked beyond its practical
        -- capacity) at the capacity cost rate
        {{ divide_rounded_half_away(
            '(parts.part_practical_minutes - coalesce(used.used_minutes, 0))'
            ~ ' * parts.capacity_hourly_rate_eur', 60, 2
        ) }} as unused_capacity_cost_eur
    from parts
    left join used
        on parts.capacity_id = used.capacity_id and parts.period_start = used.period_start

),

final as (

    select
        department,
        period_start,
        count(*) as capacity_versions,
        cast(sum(part_cost_eur) as decimal(18, 2)) as capacity_cost_eur,
        cast(sum(part_practical_minutes) as {{ dbt.type_bigint() }}) as practical_minutes,
        cast(sum(activities) as {{ dbt.type_bigint() }}) as activities,
        cast(sum(used_minutes) as decimal(18, 4)) as used_minutes,
        cast(sum(free_minutes) as decimal(18, 4)) as free_minutes,
        cast(sum(discounted_minutes) as decimal(18, 4)) as discounted_minutes,
        cast(sum(billed_minutes) as decimal(18, 4)) as billed_minutes,
        cast(sum(unpriced_minutes) as decimal(18, 4)) as unpriced_minutes,
        cast(sum(part_practical_minutes - used_minutes) as decimal(18, 4)) as unused_minutes,
        cast(sum(assigned_cost_eur) as decimal(18, 2)) as assigned_cost_eur,
        cast(sum(value_transfer_cost_eur) as decimal(18, 2)) as value_transfer_cost_eur,
        cast(sum(unused_capacity_cost_eur) as decimal(18, 2)) as unused_capacity_cost_eur,
        cast(
            sum(part_cost_eur - assigned_cost_eur - unused_capacity_cost_eur)
            as decimal(18, 2)
        ) as rate_rounding_eur,
        cast(sum(part_non_practical_cost_eur) as decimal(18, 2)) as non_practical_cost_eur
    from part_lines
    group by department, period_start

)

select * from final
