-- Every priced activity must be covered by exactly one rate version of its service type,
-- and that version must be the rate_id kept on the fact row: the one derived rate of its
-- department valid that day, or where there is none, the one typed rate.

-- In a build over the delta, the touched activities only (macros/incremental/): the rest
-- was tested when it was written and has not changed since (a changed rate is a changed rule,
-- which rebuilds everything).

{{ config(meta={'dagster': {'ref': {'name': 'fct_service_activities'}}}) }}

with

activities as {{ inline_in_full_build() }} (

    select tested.* from {{ ref('fct_service_activities') }} as tested
    where {{ in_delta_scope('tested') }}

),

rates as (

    select * from {{ ref('capacity_cost_rates') }}

),

-- The rates that match an activity depend on its service type, department and date alone:
-- each such case with its kept rate is matched once, not each of the activities (at 200
-- million activities, a group per activity outgrew the build's memory).
priced_cases as (

    select distinct
        activities.service_type_code,
        activities.department,
        activities.activity_date,
        activities.rate_id
    from activities
    where activities.is_priced

),

matching_rates as (

    select
        priced_cases.service_type_code,
        priced_cases.department,
        priced_cases.activity_date,
        priced_cases.rate_id,
        count(rates.rate_id) filter (where rates.rate_source = 'derived') as matching_derived,
        count(rates.rate_id) filter (where rates.rate_source = 'typed') as matching_typed,
        count(rates.rate_id) filter (where rates.rate_id = priced_cases.rate_id)
            as matching_kept_rate,
        max(case when rates.rate_id = priced_cases.rate_id then rates.rate_source end)
            as kept_rate_source
    from priced_cases
    left join rates
        on
            priced_cases.service_type_code = rates.service_type_code
            and (rates.department is null or priced_cases.department = rates.department)
            and priced_cases.activity_date >= rates.valid_from
            and (rates.valid_to is null or priced_cases.activity_date < rates.valid_to)
    group by
        priced_cases.service_type_code,
        priced_cases.department,
        priced_cases.activity_date,
        priced_cases.rate_id

),

broken_cases as (

    select *
    from matching_rates
    where
        matching_kept_rate <> 1
        or matching_derived > 1
        or matching_typed > 1
        or kept_rate_source <> case when matching_derived = 1 then 'derived' else 'typed' end

),

-- each priced activity of a broken case, named by its id
final as (

    select
        activities.activity_id,
        activities.rate_id,
        broken_cases.matching_derived,
        broken_cases.matching_typed,
        broken_cases.matching_kept_rate,
        broken_cases.kept_rate_source
    from broken_cases
    inner join activities
        on
            broken_cases.service_type_code = activities.service_type_code
            and broken_cases.activity_date = activities.activity_date
            and broken_cases.department is not distinct from activities.department
            and broken_cases.rate_id is not distinct from activities.rate_id
    where activities.is_priced

)

select * from final
