with

order_lines as (

    select * from {{ ref('int_order_lines') }}

),

activities as (

    select * from {{ ref('int_activities_value_transfer') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

orders_per_customer_period as (

    select
        customer_id,
        period_start,
        sum(net_revenue_eur) as revenue_eur,
        sum(contribution_margin_eur) as contribution_margin_eur
    from order_lines
    group by customer_id, period_start

),

activities_per_customer_period as (

    select
        customer_id,
        period_start,
        -- unpriced activities have a null value transfer and add nothing to the sum
        coalesce(sum(value_transfer_eur), 0) as value_transfer_eur,
        sum(duration_minutes) as service_minutes,
        count(*) as service_activities,
        sum(case when is_priced then 0 else 1 end) as unpriced_activities
    from activities
    group by customer_id, period_start

),

customer_periods as (

    select
        coalesce(
            orders_per_customer_period.customer_id,
            activities_per_customer_period.customer_id
        ) as customer_id,
        coalesce(
            orders_per_customer_period.period_start,
            activities_per_customer_period.period_start
        ) as period_start,
        coalesce(orders_per_customer_period.revenue_eur, 0) as revenue_eur,
        coalesce(orders_per_customer_period.contribution_margin_eur, 0) as contribution_margin_eur,
        coalesce(activities_per_customer_period.value_transfer_eur, 0) as value_transfer_eur,
        coalesce(activities_per_customer_period.service_minutes, 0) as service_minutes,
        coalesce(activities_per_customer_period.service_activities, 0) as service_activities,
        coalesce(activities_per_customer_period.unpriced_activities, 0) as unpriced_activities
    from orders_per_customer_period
    full outer join activities_per_customer_period
        on
            orders_per_customer_period.customer_id = activities_per_customer_period.customer_id
            and orders_per_customer_period.period_start
            = activities_per_customer_period.period_start

),

final as (

    select
        customer_periods.customer_id,
        customer_periods.period_start,
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
        cast(customer_periods.revenue_eur as decimal(18, 4)) as revenue_eur,
        cast(customer_periods.contribution_margin_eur as decimal(18, 4)) as contribution_margin_eur,
        cast(customer_periods.value_transfer_eur as decimal(18, 4)) as value_transfer_eur,
        cast(customer_periods.service_minutes as decimal(18, 4)) as service_minutes,
        cast(customer_periods.service_activities as bigint) as service_activities,
        cast(customer_periods.unpriced_activities as bigint) as unpriced_activities
    from customer_periods
    inner join periods
        on customer_periods.period_start = periods.period_start
    left join customers
        on customer_periods.customer_id = customers.customer_id

)

select * from final
