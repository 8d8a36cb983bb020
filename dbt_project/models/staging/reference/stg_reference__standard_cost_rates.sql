with

rates as (

    select * from {{ ref('standard_cost_rates') }}

),

final as (

    select
        rate_id,
        service_type_code,
        valid_from,
        valid_to,
        hourly_rate_eur,
        cost_per_event_eur,
        cost_per_participant_eur
    from rates

)

select * from final
