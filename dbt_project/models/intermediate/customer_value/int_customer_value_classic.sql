{%- set basis = var('classic_value_basis') -%}
{%- if basis not in ['revenue', 'contribution_margin'] -%}
    {{ exceptions.raise_compiler_error(
        "var classic_value_basis must be 'revenue' or 'contribution_margin', got '" ~ basis ~ "'"
    ) }}
{%- endif -%}

with

totals as (

    select * from {{ ref('int_customer_period_totals') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by period_start
            order by revenue_eur desc, customer_id asc
        ) as revenue_rank,
        coalesce(
            sum(revenue_eur) over (
                partition by period_start
                order by revenue_eur desc, customer_id asc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as revenue_ranked_above_eur,
        sum(greatest(revenue_eur, 0)) over (
            partition by period_start
        ) as period_positive_revenue_eur
    from totals

),

widened as (

    -- the sums as DECIMAL(27, 4), so that a product with a 9-decimal share keeps all its
    -- 13 decimals on every engine (no engine has to round it to fit 38 digits)
    select
        *,
        cast(revenue_ranked_above_eur as decimal(27, 4)) as ranked_above_eur,
        cast(period_positive_revenue_eur as decimal(27, 4)) as positive_revenue_eur,
        {%- if running_period_basis() == 'to_date' %}
            -- the running period's share of wallet is measured against the days covered
            case
                when is_period_complete then cast(period_year_fraction as double)
                else
                    cast(period_year_fraction as double)
                    * cast(days_covered as double)
                    / cast(days_in_period as double)
            end
        {%- else %}
            cast(period_year_fraction as double)
        {%- endif %} as wallet_year_fraction
    from ranked

),

classified as (

    select
        *,
        -- compared in exact decimals: above < cutoff * total  <=>  share_before < cutoff
        case
            when revenue_eur <= 0 then 'C'
            when
                ranked_above_eur
                < {{ share_var('abc_a_cutoff') }} * positive_revenue_eur
                then 'A'
            when
                ranked_above_eur
                < {{ share_var('abc_b_cutoff') }} * positive_revenue_eur
                then 'B'
            else 'C'
        end as abc_class,
        case
            when period_positive_revenue_eur > 0
                then
                    cast(revenue_ranked_above_eur as double)
                    / cast(period_positive_revenue_eur as double)
        end as share_before,
        case
            when
                annual_potential_eur is not null and annual_potential_eur <> 0
                and wallet_year_fraction > 0
                then
                    cast(revenue_eur as double)
                    / (cast(annual_potential_eur as double) * wallet_year_fraction)
        end as share_of_wallet,
        {{ basis }}_eur as classic_basis_eur
    from widened

),

final as (

    select
        customer_id,
        customer_name,
        period_start,
        period_end,
        previous_period_start,
        months_in_period,
        period_year_fraction,
        data_through,
        is_period_complete,
        days_in_period,
        days_covered,
        customer_since,
        annual_potential_eur,
        revenue_eur,
        contribution_margin_eur,
        share_of_wallet,
        revenue_rank,
        share_before,
        abc_class,
        classic_basis_eur,
        value_transfer_eur,
        service_minutes,
        service_activities,
        unpriced_activities
    from classified

)

select * from final
