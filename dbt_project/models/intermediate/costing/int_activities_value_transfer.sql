with

costed as (

    select * from {{ ref('int_activities_costed') }}

),

classified as (

    select
        *,
        case
            when not is_priced then null
            when billed_amount_eur = 0 then 'free'
            when billed_amount_eur < standard_cost_eur then 'discounted'
            else 'billed'
        end as transfer_kind
    from costed

),

final as (

    select
        *,
        cast(
            case transfer_kind
                when 'free' then standard_cost_eur
                when 'discounted' then standard_cost_eur - billed_amount_eur
                when 'billed' then 0
            end as decimal(18, 4)
        ) as value_transfer_eur
    from classified

)

select * from final
