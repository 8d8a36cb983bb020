with

classic as (

    select * from {{ ref('int_customer_value_classic') }}

),

with_full_potential as (

    select
        *,
        coalesce(
            customer_since > {{ add_months('period_end', -(var('new_customer_months') | int)) }},
            false
        ) as is_new_customer,
        -- potential of the whole period: annual potential * share * months / 12, rounded to
        -- 4 decimals half away from zero. The factors are kept narrow (20 + 14 digits), so
        -- that the product keeps all its 15 decimals on every engine before the one rounding.
        cast(
            cast(annual_potential_eur as decimal(20, 4))
            * (
                {{ share_var('target_share_of_wallet') }}
                * cast(period_year_fraction as decimal(3, 2))
            )
            as decimal(18, 4)
        ) as period_potential_value_eur
    from classic

),

with_potential as (

    select
        *,
        {%- if running_period_basis() == 'to_date' %}
            -- the running period's potential, pro rata for the days covered
            case
                when is_period_complete then period_potential_value_eur
                else {{ divide_rounded_half_away(
                    'period_potential_value_eur * days_covered', 'days_in_period', 4, 4
                ) }}
            end
        {%- else %}
            period_potential_value_eur
        {%- endif %} as potential_value_eur
    from with_full_potential

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
    from with_potential

)

select * from final
