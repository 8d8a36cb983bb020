-- a table (customers x periods, small): the marts above read it several times, and the sums
-- below are incremental
{{ config(materialized='table') }}

with

sums as (

    select * from {{ ref('int_customer_period_sums') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

final as (

    -- the period's and the customer's current attributes are joined here, not kept with the
    -- sums: data_through moves every night and a snapshot can change any customer
    select
        sums.customer_id,
        sums.period_start,
        periods.period_end,
        periods.previous_period_start,
        periods.months_in_period,
        periods.period_year_fraction,
        periods.data_through,
        periods.is_period_complete,
        periods.days_in_period,
        periods.days_covered,
        customers.customer_name,
        customers.customer_since,
        customers.annual_potential_eur,
        sums.revenue_eur,
        sums.contribution_margin_eur,
        sums.value_transfer_eur,
        sums.service_minutes,
        sums.service_activities,
        sums.unpriced_activities
    from sums
    inner join periods
        on sums.period_start = periods.period_start
    left join customers
        on sums.customer_id = customers.customer_id

)

select * from final
