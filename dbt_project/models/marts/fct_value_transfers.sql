-- a view on DuckDB: a filter (join) of the facts, no second copy to build and publish;
-- a table where the catalog cannot run its SQL (macros/cross_engine/engine_inputs.sql)
{{ config(materialized=derived_mart_materialization()) }}

-- The ledger is the standard-cost facts whose value transfer is above 0: the same columns,
-- the same rows, so the two can never disagree.
with

activities as (

    select * from {{ ref('fct_service_activities') }}

),

final as (

    select * from activities
    where value_transfer_eur > 0

)

select * from final
