{{ config(**keyed_incremental_config('service_activities', ['activity_id'], none)) }}

with

source as (

    select * from {{ source('service_log', 'service_activities') }} as delivered
    -- in a delta build, every version of the touched keys
    where {{ is_touched('service_activities', ['activity_id'], 'delivered') }}

),

latest as (

    {{ latest_delivery('source', ['activity_id']) }}

),

final as (

    select
        cast(activity_id as varchar) as activity_id,
        cast(customer_id as varchar) as customer_id,
        cast(service_type_code as varchar) as service_type_code,
        cast(activity_date as date) as activity_date,
        cast(duration_minutes as decimal(18, 4)) as duration_minutes,
        cast(coalesce(participants, 1) as integer) as participants,
        cast(employee_id as varchar) as employee_id,
        cast(department as varchar) as department,
        cast(channel as varchar) as channel,
        cast(coalesce(billed_amount_eur, 0) as decimal(18, 4)) as billed_amount_eur,
        cast(description as varchar) as description,
        cast(coalesce(status, 'done') as varchar) as status,
        coalesce(status, 'done') = 'cancelled' as is_cancelled,
        cast(updated_at as timestamp) as updated_at,
        cast(extract_date as date) as extract_date,
        cast(source_file as varchar) as source_file
    from latest

)

select * from final
