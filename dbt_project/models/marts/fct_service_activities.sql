with

activities as (

    select * from {{ ref('int_activities_value_transfer') }}

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
        rate_id,
        standard_cost_eur,
        is_priced,
        transfer_kind,
        value_transfer_eur,
        description,
        source_file,
        line_number
    from activities

)

select * from final
