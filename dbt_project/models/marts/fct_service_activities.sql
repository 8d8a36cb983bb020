{{ config(**keyed_incremental_config(
    'service_activities', entity_key('service_activities'), 'period_start'
)) }}

with

activities as (

    select current_rows.* from {{ ref('int_activities_value_transfer') }} as current_rows
    -- in a delta build, the touched keys' rows
    where {{ is_touched('service_activities', entity_key('service_activities'), 'current_rows') }}

),

final as (

    select
        activity_id,
        customer_id,
        service_type_code,
        activity_date,
        period_start,
        duration_minutes,
        participants,
        employee_id,
        department,
        channel,
        billed_amount_eur,
        costed_minutes,
        rate_id,
        rate_source,
        standard_cost_eur,
        is_priced,
        transfer_kind,
        value_transfer_eur,
        description,
        source_file,
        line_number,
        {{ written_in_build_column() }}
    from activities

)

{{ incremental_rows(
    'final', 'service_activities', entity_key('service_activities'), 'period_start'
) }}
