-- Every customer of dim_customers has exactly one current version in dim_customers_history,
-- and that version holds the customer's attributes in dim_customers: the history ends where
-- today's values are. Each failing row names the customer and what differs.

with

customers as (

    select * from {{ ref('dim_customers') }}

),

current_versions as (

    select * from {{ ref('dim_customers_history') }}
    where is_current

),

counted as (

    select
        customer_id,
        count(*) as current_versions
    from current_versions
    group by customer_id

),

final as (

    select
        customers.customer_id,
        coalesce(counted.current_versions, 0) as current_versions,
        case
            when coalesce(counted.current_versions, 0) <> 1 then 'not one current version'
            else 'attributes differ from dim_customers'
        end as failure
    from customers
    left join counted
        on customers.customer_id = counted.customer_id
    left join current_versions
        on customers.customer_id = current_versions.customer_id
    where
        coalesce(counted.current_versions, 0) <> 1
        or {{ values_differ('current_versions.industry', 'customers.industry') }}
        or {{ values_differ('current_versions.region', 'customers.region') }}
        or {{ values_differ('current_versions.account_manager', 'customers.account_manager') }}
        or {{ values_differ('current_versions.country_code', 'customers.country_code') }}
        or {{ values_differ('current_versions.status', 'customers.status') }}

)

select * from final
