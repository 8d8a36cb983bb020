{%- set classic_bands = grid_bands_var('grid_classic_value_bands') -%}
{%- set value_transfer_bands = grid_bands_var('grid_value_transfer_bands') -%}

with

customer_values as (

    select * from {{ ref('int_customer_value_potential') }}

),

classic_cutoffs as (

    {{ continuous_quantiles(
        'customer_values', 'period_start', 'classic_value_eur', classic_bands
    ) }}

),

value_transfer_cutoffs as (

    {{ continuous_quantiles(
        'customer_values', 'period_start', 'value_transfer_eur', value_transfer_bands
    ) }}

),

final as (

    select
        period_start,
        'classic_value' as axis,
        {{ classic_bands }} as bands,
        quantile_rank as cutoff_rank,
        quantile_value as cutoff
    from classic_cutoffs
    union all
    select
        period_start,
        'value_transfer' as axis,
        {{ value_transfer_bands }} as bands,
        quantile_rank as cutoff_rank,
        quantile_value as cutoff
    from value_transfer_cutoffs

)

select * from final
