{%- set classic_threshold = var('classic_value_threshold_eur') -%}
{%- set value_transfer_threshold = var('value_transfer_threshold_eur') -%}

with

customer_values as (

    select * from {{ ref('int_customer_value_potential') }}

),

segments as (

    select * from {{ ref('stg_reference__segments') }}

),

thresholds as (

    -- the var when set, else the continuous median over the period's rows; widened to six
    -- decimals first, because quantile_cont on a DECIMAL keeps the input scale
    select
        period_start,
        {% if classic_threshold is none -%}
            quantile_cont(cast(classic_value_eur as decimal(38, 6)), 0.5)
        {%- else -%}
            cast({{ classic_threshold }} as decimal(38, 6))
        {%- endif %} as classic_threshold,
        {% if value_transfer_threshold is none -%}
            quantile_cont(cast(value_transfer_eur as decimal(38, 6)), 0.5)
        {%- else -%}
            cast({{ value_transfer_threshold }} as decimal(38, 6))
        {%- endif %} as value_transfer_threshold
    from customer_values
    group by period_start

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
        end as value_transfer_level
    from customer_values
    inner join thresholds
        on customer_values.period_start = thresholds.period_start

),

final as (

    select
        levelled.*,
        segments.segment,
        segments.segment_label_de,
        segments.strategy
    from levelled
    left join segments
        on
            levelled.classic_value_level = segments.classic_value_level
            and levelled.value_transfer_level = segments.value_transfer_level

)

select * from final
