-- The value-transfer ledger total per period equals the value transfer in customer_value.

{{ config(meta={'dagster': {'ref': {'name': 'fct_value_transfers'}}}) }}

with

ledger as (

    select * from {{ ref('fct_value_transfers') }}

),

customer_value as (

    select * from {{ ref('customer_value') }}

),

ledger_per_period as (

    select
        period_start,
        sum(value_transfer_eur) as ledger_value_transfer_eur
    from ledger
    group by period_start

),

customer_value_per_period as (

    select
        period_start,
        sum(value_transfer_eur) as customer_value_transfer_eur
    from customer_value
    group by period_start

),

final as (

    select
        coalesce(
            ledger_per_period.period_start,
            customer_value_per_period.period_start
        ) as period_start,
        ledger_per_period.ledger_value_transfer_eur,
        customer_value_per_period.customer_value_transfer_eur
    from ledger_per_period
    full outer join customer_value_per_period
        on ledger_per_period.period_start = customer_value_per_period.period_start
    where
        coalesce(ledger_per_period.ledger_value_transfer_eur, 0)
        <> coalesce(customer_value_per_period.customer_value_transfer_eur, 0)

)

select * from final
