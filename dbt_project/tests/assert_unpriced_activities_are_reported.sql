-- Data-quality report: non-cancelled activities without a valid standard cost rate. They stay
-- in the facts (standard cost and value transfer null); this test warns and lists them so
-- that controlling can add the missing rate.

-- In a build over the delta it lists the touched activities only (macros/incremental/);
-- the summary of `cvm load` counts them all.

{{ config(severity='warn') }}

with

activities as (

    select tested.* from {{ ref('fct_service_activities') }} as tested
    where {{ in_delta_scope('tested') }}

),

final as (

    select
        activity_id,
        customer_id,
        service_type_code,
        activity_date
    from activities
    where not is_priced

)

select * from final
