-- a purchase is a day on which the customer has at least one current order line: the day's
-- lines merged into one purchase, numbered from the customer's first
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

days as (

    select
        customer_id,
        order_date as purchase_date,
        count(*) as order_lines,
        sum(net_revenue_eur) as revenue_eur,
        sum(contribution_margin_eur) as contribution_margin_eur
    from order_lines
    group by customer_id, order_date

),

final as (

    select
        customer_id,
        purchase_date,
        row_number() over (partition by customer_id order by purchase_date) as purchase_number,
        order_lines,
        revenue_eur,
        contribution_margin_eur
    from days

)

select * from final
