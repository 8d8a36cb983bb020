{%- set forecast_column = 'expected_margin_year_eur'
    if var('classic_value_basis') == 'contribution_margin' else 'expected_revenue_year_eur' -%}

with

classic as (

    select * from {{ ref('int_customer_value_classic') }}

),

forecast as (

    select * from {{ ref('int_purchase_model_forecast') }}

),

with_full_potential as (

    select
        classic.*,
        coalesce(
            classic.customer_since
            > {{ add_months('classic.period_end', -(var('new_customer_months') | int)) }},
            false
        ) as is_new_customer,
        -- sales' potential of the whole period: annual potential * share * months / 12,
        -- rounded to 4 decimals half away from zero. The factors are kept narrow (20 + 14
        -- digits), so that the product keeps all its 15 decimals on every engine before the
        -- one rounding.
        cast(
            cast(classic.annual_potential_eur as decimal(20, 4))
            * (
                {{ share_var('target_share_of_wallet') }}
                * cast(classic.period_year_fraction as decimal(3, 2))
            )
            as decimal(18, 4)
        ) as period_crm_potential_eur,
        -- the purchase model's: what it expects the customer to buy from us in a year (its
        -- revenue or margin, in the unit of classic_value_basis) * months / 12; it is our
        -- share already, so the target share does not apply
        cast(
            forecast.{{ forecast_column }}
            * cast(classic.period_year_fraction as decimal(3, 2))
            as decimal(18, 4)
        ) as period_model_potential_eur,
        coalesce(classic.annual_potential_eur, 0) <> 0 as has_crm_potential
    from classic
    left join forecast
        on classic.customer_id = forecast.customer_id

),

with_potential as (

    select
        *,
        {%- if running_period_basis() == 'to_date' %}
            -- the running period's potentials, pro rata for the days covered
            case
                when is_period_complete then period_crm_potential_eur
                else {{ divide_rounded_half_away(
                    'period_crm_potential_eur * days_covered', 'days_in_period', 4, 4
                ) }}
            end as crm_potential_value_eur,
            case
                when is_period_complete then period_model_potential_eur
                else {{ divide_rounded_half_away(
                    'period_model_potential_eur * days_covered', 'days_in_period', 4, 4
                ) }}
            end as model_potential_value_eur
        {%- else %}
            period_crm_potential_eur as crm_potential_value_eur,
            period_model_potential_eur as model_potential_value_eur
        {%- endif %}
    from with_full_potential

),

with_source as (

    select
        *,
        -- sales' number wins where given; the model stands in where sales gave none or 0
        case
            when has_crm_potential then crm_potential_value_eur
            else model_potential_value_eur
        end as potential_value_eur,
        case
            when has_crm_potential then 'crm'
            when model_potential_value_eur is not null then 'model'
            else 'none'
        end as potential_source
    from with_potential

),

final as (

    select
        *,
        -- a newcomer is judged by the greater of its classic basis and its potential
        case
            when is_new_customer and potential_value_eur > classic_basis_eur
                then potential_value_eur
            else classic_basis_eur
        end as classic_value_eur
    from with_source

)

select * from final
