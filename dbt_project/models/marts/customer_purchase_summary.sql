-- the purchase model's inputs (orchestration/lib/clv): per customer, as of the data's end
with

purchase_days as (

    select * from {{ ref('int_customer_purchase_days') }}

),

loaded as (

    select max(extract_date) as as_of_date
    from {{ ref('stg_deliveries__extracts') }}

),

first_days as (

    select
        customer_id,
        min(purchase_date) as first_purchase_date
    from purchase_days
    group by customer_id

),

per_customer as (

    select
        purchase_days.customer_id,
        min(first_days.first_purchase_date) as first_purchase_date,
        max(purchase_days.purchase_date) as last_purchase_date,
        count(*) as purchases,
        sum(purchase_days.revenue_eur) as revenue_eur,
        sum(purchase_days.contribution_margin_eur) as contribution_margin_eur,
        -- the repeat purchase days: every day but the first
        sum(
            case
                when purchase_days.purchase_date > first_days.first_purchase_date
                    then purchase_days.revenue_eur
            end
        ) as repeat_revenue_eur,
        sum(
            case
                when purchase_days.purchase_date > first_days.first_purchase_date
                    then purchase_days.contribution_margin_eur
            end
        ) as repeat_margin_eur
    from purchase_days
    inner join first_days on purchase_days.customer_id = first_days.customer_id
    group by purchase_days.customer_id

),

final as (

    select
        per_customer.customer_id,
        loaded.as_of_date,
        per_customer.first_purchase_date,
        per_customer.last_purchase_date,
        cast(per_customer.purchases as bigint) as purchases,
        cast(per_customer.purchases - 1 as bigint) as frequency,
        cast(
            {{ days_between(
                'per_customer.first_purchase_date', 'per_customer.last_purchase_date'
            ) }}
            as bigint
        ) as recency_days,
        cast(
            {{ days_between('per_customer.first_purchase_date', 'loaded.as_of_date') }}
            as bigint
        ) as t_days,
        cast(per_customer.revenue_eur as decimal(18, 4)) as revenue_eur,
        cast(per_customer.contribution_margin_eur as decimal(18, 4)) as contribution_margin_eur,
        cast(per_customer.repeat_revenue_eur as double) / nullif(per_customer.purchases - 1, 0)
            as avg_repeat_revenue_eur,
        cast(per_customer.repeat_margin_eur as double) / nullif(per_customer.purchases - 1, 0)
            as avg_repeat_margin_eur,
        -- the forecast's settings, for the fit
        cast({{ clv_horizon_months() }} as integer) as horizon_months,
        {{ share_var('clv_discount_rate_annual') }} as discount_rate_annual
    from per_customer
    cross join loaded

)

select * from final
