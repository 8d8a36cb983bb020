with

activities as (

    select current_versions.*
    from {{ ref('stg_service_log__service_activities') }} as current_versions
    -- in a delta build, the touched activities only (macro in_delta_scope)
    where {{ in_delta_scope(
        'service_activities', entity_key('service_activities'), 'current_versions'
    ) }}

),

rates as (

    select * from {{ ref('stg_reference__standard_cost_rates') }}

),

current_activities as (

    select
        activity_id,
        customer_id,
        service_type_code,
        activity_date,
        duration_minutes,
        participants,
        employee_id,
        department,
        channel,
        billed_amount_eur,
        description,
        source_file,
        line_number
    from activities
    where not is_cancelled

),

activities_with_rate as (

    select
        current_activities.*,
        rates.rate_id,
        rates.hourly_rate_eur,
        rates.cost_per_event_eur,
        rates.cost_per_participant_eur
    from current_activities
    left join rates
        on
            current_activities.service_type_code = rates.service_type_code
            and current_activities.activity_date >= rates.valid_from
            and (rates.valid_to is null or current_activities.activity_date < rates.valid_to)

),

cost_times_60 as (

    -- duration_minutes / 60 * hourly_rate + per event + participants * per participant,
    -- computed as (duration * hourly + 60 * (event + participants * per participant)) / 60
    -- so that the only division is the exact one of macro divide_rounded_half_away.
    -- Six decimals at most (4 of the duration, 2 of the rates).
    select
        *,
        duration_minutes * hourly_rate_eur
        + 60 * (cost_per_event_eur + participants * cost_per_participant_eur)
            as standard_cost_times_60
    from activities_with_rate

),

costed as (

    select
        *,
        {{ divide_rounded_half_away('standard_cost_times_60', 60, 2) }} as standard_cost_eur,
        rate_id is not null as is_priced
    from cost_times_60

),

final as (

    select
        activity_id,
        customer_id,
        service_type_code,
        activity_date,
        {{ period_start_of('activity_date') }} as period_start,
        duration_minutes,
        participants,
        employee_id,
        department,
        channel,
        billed_amount_eur,
        description,
        rate_id,
        hourly_rate_eur,
        cost_per_event_eur,
        cost_per_participant_eur,
        standard_cost_eur,
        is_priced,
        source_file,
        line_number
    from costed

)

select * from final
