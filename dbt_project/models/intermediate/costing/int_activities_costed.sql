with

activities as {{ inline_in_full_build() }} (

    select current_versions.*
    from {{ ref('stg_service_log__service_activities') }} as current_versions
    -- in a delta build, the touched activities only (macro in_delta_scope)
    where {{ in_delta_scope('current_versions') }}

),

rates as (

    select * from {{ ref('int_standard_cost_rates') }}

),

equations as (

    select * from {{ ref('stg_reference__time_equations') }}

),

current_activities as {{ inline_in_full_build() }} (

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

standard_minutes as (

    -- the time equation of the activity's service type: the sum of minutes * X over its
    -- terms (X = 1 for base, the participants, 1 or 0 for the channel)
    select
        current_activities.activity_id,
        sum(
            equations.minutes * case
                when equations.driver = 'base' then 1
                when equations.driver = 'participants' then current_activities.participants
                when equations.driver = 'channel:' || current_activities.channel then 1
                else 0
            end
        ) as standard_minutes
    from current_activities
    inner join equations
        on current_activities.service_type_code = equations.service_type_code
    group by current_activities.activity_id

),

activities_with_minutes as (

    -- the var costed_minutes: the logged duration, or the time equation's minutes where
    -- the service type has one
    select
        current_activities.*,
        {{ 'true' if costed_minutes() == 'time_equation' else 'false' }}
        and standard_minutes.activity_id is not null as is_time_equation,
        cast(
            case
                when
                    {{ 'true' if costed_minutes() == 'time_equation' else 'false' }}
                    and standard_minutes.activity_id is not null
                    then standard_minutes.standard_minutes
                else current_activities.duration_minutes
            end as decimal(18, 4)
        ) as costed_minutes
    from current_activities
    left join standard_minutes
        on current_activities.activity_id = standard_minutes.activity_id

),

activities_with_rate as (

    -- the derived rate of the activity's department where one is valid that day, else the
    -- typed rate: exactly one rate version
    select
        activities_with_minutes.*,
        coalesce(derived.rate_id, typed.rate_id) as rate_id,
        coalesce(derived.rate_source, typed.rate_source) as rate_source,
        coalesce(derived.hourly_rate_eur, typed.hourly_rate_eur) as hourly_rate_eur,
        coalesce(derived.cost_per_event_eur, typed.cost_per_event_eur) as cost_per_event_eur,
        coalesce(derived.cost_per_participant_eur, typed.cost_per_participant_eur)
            as cost_per_participant_eur
    from activities_with_minutes
    left join rates as derived
        on
            derived.rate_source = 'derived'
            and activities_with_minutes.service_type_code = derived.service_type_code
            and activities_with_minutes.department = derived.department
            and activities_with_minutes.activity_date >= derived.valid_from
            and activities_with_minutes.activity_date < derived.valid_to
    left join rates as typed
        on
            typed.rate_source = 'typed'
            and activities_with_minutes.service_type_code = typed.service_type_code
            and activities_with_minutes.activity_date >= typed.valid_from
            and (typed.valid_to is null or activities_with_minutes.activity_date < typed.valid_to)

),

cost_times_60 as (

    -- costed_minutes / 60 * hourly_rate + per event + participants * per participant,
    -- computed as (duration * hourly + 60 * (event + participants * per participant)) / 60
    -- so that the only division is the exact one of macro divide_rounded_half_away.
    -- Six decimals at most (4 of the duration, 2 of the rates).
    select
        *,
        costed_minutes * hourly_rate_eur
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
        costed_minutes,
        is_time_equation,
        rate_id,
        rate_source,
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
