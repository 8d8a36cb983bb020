with

typed as (

    select * from {{ ref('stg_reference__standard_cost_rates') }}

),

capacity as (

    select * from {{ ref('int_capacity_versions') }}

),

typed_rates as (

    -- the controller's rates, for every department without a capacity version that day
    select
        rate_id,
        service_type_code,
        cast(null as {{ dbt.type_string() }}) as department,
        valid_from,
        valid_to,
        'typed' as rate_source,
        hourly_rate_eur,
        cost_per_event_eur,
        cost_per_participant_eur,
        rate_id as typed_rate_id,
        cast(null as {{ dbt.type_string() }}) as capacity_id
    from typed

),

derived_rates as (

    -- a department's capacity version and a typed rate version of a service type, valid on
    -- common days: the hourly rate is the department's capacity cost rate; the fixed parts
    -- (per event, per participant) stay the typed rate's
    select
        typed.rate_id || '@' || capacity.capacity_id as rate_id,
        typed.service_type_code,
        capacity.department,
        case
            when typed.valid_from > capacity.valid_from then typed.valid_from
            else capacity.valid_from
        end as valid_from,
        case
            when typed.valid_to is not null and typed.valid_to < capacity.valid_to
                then typed.valid_to
            else capacity.valid_to
        end as valid_to,
        'derived' as rate_source,
        capacity.capacity_hourly_rate_eur as hourly_rate_eur,
        typed.cost_per_event_eur,
        typed.cost_per_participant_eur,
        typed.rate_id as typed_rate_id,
        capacity.capacity_id
    from typed
    inner join capacity
        on
            typed.valid_from < capacity.valid_to
            and (typed.valid_to is null or typed.valid_to > capacity.valid_from)

),

final as (

    select * from typed_rates
    union all
    select * from derived_rates

)

select * from final
