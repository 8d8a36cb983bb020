-- The value-transfer ledger total per period equals the value transfer in customer_value.

-- In a build over the delta, the periods of the touched customers and periods only
-- (macros/incremental/): the rest was tested when it was written and has not changed since.

{{ config(meta={'dagster': {'ref': {'name': 'customer_value'}}}) }}
{%- set touched = ref('int_touched_customer_periods') %}

with

ledger as (

    select tested.* from {{ ref('fct_value_transfers') }} as tested
    where {{ in_touched_periods(touched, 'tested') }}

),

customer_value as (

    select tested.* from {{ ref('customer_value') }} as tested
    where {{ in_touched_periods(touched, 'tested') }}

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
