-- The reconciliation of a department's capacity cost, per department and period (blocking):
-- 1. the assigned cost is what the facts priced at the department's derived rates carry
--    for their minutes (standard cost less the fixed parts), when all its activities are
--    priced (an unpriced activity's minutes are assigned at the capacity rate only here);
-- 2. capacity cost = assigned + unused + the rate's rounding, where the rounding is at
--    most what rounding the rate to the cent and each line to the cent can leave:
--    0.005 EUR per practical hour, 0.01 EUR per activity and, per capacity version, a
--    hundredth of its hourly rate plus 0.03 EUR.
-- The mart is rebuilt whole every run: tested whole.

{{ config(meta={'dagster': {'ref': {'name': 'department_capacity'}}}) }}

with

capacity as (

    select * from {{ ref('department_capacity') }}

),

rates as (

    select * from {{ ref('capacity_cost_rates') }}

),

facts as (

    select
        activities.department,
        activities.period_start,
        sum(
            activities.standard_cost_eur - rates.cost_per_event_eur
            - activities.participants * rates.cost_per_participant_eur
        ) as derived_time_cost_eur
    from {{ ref('fct_service_activities') }} as activities
    inner join rates on activities.rate_id = rates.rate_id
    where rates.rate_source = 'derived'
    group by activities.department, activities.period_start

),

hourly as (

    select
        department,
        max(hourly_rate_eur) as max_hourly_rate_eur
    from rates
    where rate_source = 'derived'
    group by department

),

checked as (

    select
        capacity.department,
        capacity.period_start,
        capacity.capacity_cost_eur,
        capacity.assigned_cost_eur,
        capacity.unused_capacity_cost_eur,
        capacity.rate_rounding_eur,
        coalesce(facts.derived_time_cost_eur, 0) as derived_time_cost_eur,
        capacity.unpriced_minutes = 0 as unpriced_minutes_absent,
        capacity.practical_minutes * 0.005 / 60
        + 0.01 * capacity.activities
        + capacity.capacity_versions * (0.03 + hourly.max_hourly_rate_eur / 100)
            as rounding_bound_eur
    from capacity
    left join facts
        on capacity.department = facts.department and capacity.period_start = facts.period_start
    left join hourly on capacity.department = hourly.department

),

final as (

    select *
    from checked
    where
        capacity_cost_eur
        <> assigned_cost_eur + unused_capacity_cost_eur + rate_rounding_eur
        or abs(rate_rounding_eur) > rounding_bound_eur
        or (unpriced_minutes_absent and assigned_cost_eur <> derived_time_cost_eur)

)

select * from final
