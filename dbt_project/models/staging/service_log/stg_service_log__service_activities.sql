{{ config(**keyed_incremental_config(
    'service_activities', entity_key('service_activities'), 'storage_month'
)) }}

with

source as {{ inline_in_full_build() }} (

    select delivered.* from {{ source('service_log', 'service_activities') }} as delivered
    -- in a delta build, every version of the touched keys
    where {{ is_touched('service_activities', entity_key('service_activities'), 'delivered') }}

),

latest as (

    {{ latest_delivery('source', entity_key('service_activities')) }}

),

final as (

    select
        cast(activity_id as {{ dbt.type_string() }}) as activity_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(service_type_code as {{ dbt.type_string() }}) as service_type_code,
        cast(activity_date as date) as activity_date,
        cast(duration_minutes as decimal(18, 4)) as duration_minutes,
        cast(coalesce(participants, 1) as integer) as participants,
        cast(employee_id as {{ dbt.type_string() }}) as employee_id,
        {{ mask_email('cast(department as ' ~ dbt.type_string() ~ ')') }} as department,
        {{ mask_email('cast(channel as ' ~ dbt.type_string() ~ ')') }} as channel,
        cast(coalesce(billed_amount_eur, 0) as decimal(18, 4)) as billed_amount_eur,
        {{ mask_personal_data('cast(description as ' ~ dbt.type_string() ~ ')') }} as description,
        cast(coalesce(status, 'done') as {{ dbt.type_string() }}) as status,
        coalesce(status, 'done') = 'cancelled' as is_cancelled,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(extract_date as date) as extract_date,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(line_number as {{ dbt.type_bigint() }}) as line_number,
        {{ written_in_build_column() }},
        {{ storage_month('activity_date') }} as storage_month
    from latest

)

{{ incremental_rows(
    'final', 'service_activities', entity_key('service_activities'), 'storage_month'
) }}
