with

rates as (

    select * from {{ ref('int_standard_cost_rates') }}

),

capacity as (

    select * from {{ ref('int_capacity_versions') }}

),

final as (

    select
        rates.rate_id,
        rates.service_type_code,
        rates.department,
        rates.valid_from,
        rates.valid_to,
        rates.rate_source,
        rates.hourly_rate_eur,
        rates.cost_per_event_eur,
        rates.cost_per_participant_eur,
        rates.typed_rate_id,
        rates.capacity_id,
        capacity.capacity_cost_eur,
        capacity.theoretical_minutes,
        capacity.practical_share,
        capacity.practical_minutes
    from rates
    left join capacity on rates.capacity_id = capacity.capacity_id

)

select * from final
