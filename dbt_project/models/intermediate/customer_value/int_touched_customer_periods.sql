-- a table: computed once per build, read by the incremental customer-period sums and by the
-- tests that compare them with the facts (macros/incremental/)
{{ config(materialized='table') }}
{%- set is_delta = cvm_build() == 'delta' %}

with

order_lines as (

    -- in a delta build, the touched order lines (the rows this build wrote); in any other,
    -- none (all is recomputed)
    select
        current_rows.customer_id,
        current_rows.period_start
    from {{ ref('fct_order_lines') }} as current_rows
    where
        {% if is_delta -%}
            {{ written_in_this_build('current_rows') }}
        {%- else -%}
            false
        {%- endif %}

),

activities as (

    select
        current_rows.customer_id,
        current_rows.period_start
    from {{ ref('fct_service_activities') }} as current_rows
    where
        {% if is_delta -%}
            {{ written_in_this_build('current_rows') }}
        {%- else -%}
            false
        {%- endif %}

),

before_build as (

    -- the pairs the touched keys occupied before the build (recorded by the orchestration)
    select
        customer_id,
        period_start
    from {{ customer_periods_before() if is_delta else 'order_lines' }}

),

final as (

    select
        customer_id,
        period_start
    from before_build
    union
    select
        customer_id,
        period_start
    from order_lines
    union
    select
        customer_id,
        period_start
    from activities

)

select * from final
