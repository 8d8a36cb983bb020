-- Every priced activity must be covered by exactly one rate version of its service type,
-- and that version must be the rate_id kept on the fact row: the one derived rate of its
-- department valid that day, or where there is none, the one typed rate.

-- In a build over the delta, the touched activities only (macros/incremental/): the rest
-- was tested when it was written and has not changed since (a changed rate is a changed rule,
-- which rebuilds everything).

{{ config(meta={'dagster': {'ref': {'name': 'fct_service_activities'}}}) }}

with

activities as (

    select tested.* from {{ ref('fct_service_activities') }} as tested
    where {{ in_delta_scope('service_activities', entity_key('service_activities'), 'tested') }}

),

rates as (

    select * from {{ ref('capacity_cost_rates') }}

),

matching_rates as (

    select
        activities.activity_id,
        activities.rate_id,
        count(rates.rate_id) filter (where rates.rate_source = 'derived') as matching_derived,
        count(rates.rate_id) filter (where rates.rate_source = 'typed') as matching_typed,
        count(rates.rate_id) filter (where rates.rate_id = activities.rate_id)
            as matching_kept_rate,
        max(case when rates.rate_id = activities.rate_id then rates.rate_source end)
            as kept_rate_source
    from activities
    left join rates
        on
            activities.service_type_code = rates.service_type_code
            and (rates.department is null or activities.department = rates.department)
            and activities.activity_date >= rates.valid_from
            and (rates.valid_to is null or activities.activity_date < rates.valid_to)
    where activities.is_priced
    group by activities.activity_id, activities.rate_id

),

final as (

    select *
    from matching_rates
    where
        matching_kept_rate <> 1
        or matching_derived > 1
        or matching_typed > 1
        or kept_rate_source <> case when matching_derived = 1 then 'derived' else 'typed' end

)

select * from final
