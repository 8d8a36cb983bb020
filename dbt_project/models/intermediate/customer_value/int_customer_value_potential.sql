with

classic as (

    select * from {{ ref('int_customer_value_classic') }}

),

with_potential as (

    select
        *,
        coalesce(
            customer_since
            > cast(period_end - interval {{ var('new_customer_months') }} month as date),
            false
        ) as is_new_customer,
        cast(
            -- widened first: DECIMAL(18, x) products overflow for large potentials
            cast(annual_potential_eur as decimal(38, 4))
            * {{ share_var('target_share_of_wallet') }}
            * period_year_fraction
            as decimal(18, 4)
        ) as potential_value_eur
    from classic

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
