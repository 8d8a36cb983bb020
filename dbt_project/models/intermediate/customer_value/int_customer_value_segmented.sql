{%- set classic_threshold = var('classic_value_threshold_eur') -%}
{%- set value_transfer_threshold = var('value_transfer_threshold_eur') -%}

with

customer_values as (

    select * from {{ ref('int_customer_value_potential') }}

),

segments as (

    select * from {{ ref('stg_reference__segments') }}

),

grid_cutoffs as (

    select * from {{ ref('int_portfolio_cutoffs') }}

),

classic_medians as (

    {{ continuous_quantiles('customer_values', 'period_start', 'classic_value_eur', 2) }}

),

value_transfer_medians as (

    {{ continuous_quantiles('customer_values', 'period_start', 'value_transfer_eur', 2) }}

),

thresholds as (

    -- the var when set, else the continuous median over the period's rows
    select
        classic_medians.period_start,
        {% if classic_threshold is none -%}
            classic_medians.quantile_value
        {%- else -%}
            cast({{ classic_threshold }} as decimal(18, 6))
        {%- endif %} as classic_threshold,
        {% if value_transfer_threshold is none -%}
            value_transfer_medians.quantile_value
        {%- else -%}
            cast({{ value_transfer_threshold }} as decimal(18, 6))
        {%- endif %} as value_transfer_threshold
    from classic_medians
    inner join value_transfer_medians
        on classic_medians.period_start = value_transfer_medians.period_start

),

-- band of the finer grid: 1 + the number of the axis' cut-offs the value is greater than
bands as (

    select
        customer_values.customer_id,
        customer_values.period_start,
        1 + sum(
            case
                when
                    grid_cutoffs.axis = 'classic_value'
                    and customer_values.classic_value_eur > grid_cutoffs.cutoff
                    then 1
                else 0
            end
        ) as classic_value_band,
        1 + sum(
            case
                when
                    grid_cutoffs.axis = 'value_transfer'
                    and customer_values.value_transfer_eur > grid_cutoffs.cutoff
                    then 1
                else 0
            end
        ) as value_transfer_band
    from customer_values
    left join grid_cutoffs
        on customer_values.period_start = grid_cutoffs.period_start
    group by customer_values.customer_id, customer_values.period_start

),

levelled as (

    select
        customer_values.*,
        thresholds.classic_threshold,
        thresholds.value_transfer_threshold,
        case
            when customer_values.classic_value_eur > thresholds.classic_threshold then 'high'
            else 'low'
        end as classic_value_level,
        case
            when customer_values.value_transfer_eur > thresholds.value_transfer_threshold
                then 'high'
            else 'low'
        end as value_transfer_level,
        cast(bands.classic_value_band as integer) as classic_value_band,
        cast(bands.value_transfer_band as integer) as value_transfer_band
    from customer_values
    inner join thresholds
        on customer_values.period_start = thresholds.period_start
    inner join bands
        on
            customer_values.customer_id = bands.customer_id
            and customer_values.period_start = bands.period_start

),

final as (

    select
        levelled.*,
        segments.segment,
        segments.display_order as segment_display_order,
        segments.segment_label_de,
        segments.segment_label_en,
        segments.strategy,
        segments.strategy_de
    from levelled
    left join segments
        on
            levelled.classic_value_level = segments.classic_value_level
            and levelled.value_transfer_level = segments.value_transfer_level

)

select * from final
