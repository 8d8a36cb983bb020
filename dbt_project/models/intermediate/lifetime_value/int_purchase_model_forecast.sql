-- the purchase model's forecast per customer for the year after the data's end, written by
-- the load's fit (orchestration/lib/clv) between its two dbt builds; no rows when there is
-- none (a build without the fit, or too few customers to fit on)
{%- set forecast = source('purchase_model', 'annual_forecast') -%}
{%- set found = adapter.get_relation(
    database=forecast.database, schema=forecast.schema, identifier=forecast.identifier
) if execute else none -%}

{%- if found is not none %}

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of_date as date) as as_of_date,
        cast(expected_revenue_year_eur as decimal(18, 4)) as expected_revenue_year_eur,
        cast(expected_margin_year_eur as decimal(18, 4)) as expected_margin_year_eur
    from {{ forecast }}

{%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as as_of_date,
        cast(null as decimal(18, 4)) as expected_revenue_year_eur,
        cast(null as decimal(18, 4)) as expected_margin_year_eur
    where 1 = 0

{%- endif %}
