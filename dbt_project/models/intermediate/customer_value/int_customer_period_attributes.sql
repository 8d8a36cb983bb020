with

customer_periods as (

    select * from {{ ref('int_customer_period_sums') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

history as (

    select * from {{ ref('dim_customers_history') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

as_of as (

    -- the day whose attributes count for the period: its end, or data_through for the
    -- running period
    select
        customer_periods.customer_id,
        customer_periods.period_start,
        least(periods.period_end, periods.data_through) as attributes_as_of
    from customer_periods
    inner join periods
        on customer_periods.period_start = periods.period_start

),

final as (

    select
        as_of.customer_id,
        as_of.period_start,
        customers.industry,
        customers.region,
        customers.account_manager,
        customers.country_code,
        customers.status,
        as_of.attributes_as_of,
        history.valid_from as attributes_valid_from,
        history.industry as industry_in_period,
        history.region as region_in_period,
        history.account_manager as account_manager_in_period,
        history.country_code as country_code_in_period,
        history.status as status_in_period
    from as_of
    left join customers
        on as_of.customer_id = customers.customer_id
    -- the version valid on that day; a day before the customer's first snapshot takes the
    -- first version (nothing earlier is known)
    left join history
        on
            as_of.customer_id = history.customer_id
            and (as_of.attributes_as_of >= history.valid_from or history.version_number = 1)
            and (history.valid_to is null or as_of.attributes_as_of < history.valid_to)

)

select * from final
