-- the history of dim_customers: after each customers snapshot, the attributes that the
-- re-delivery rule picks from the snapshots delivered up to it; consecutive snapshots with
-- the same tracked attributes make one version. Incremental: a build over the delta rebuilds
-- the whole history of the customers it touched (macros/incremental/).
{{ config(**keyed_incremental_config('customers', entity_key('customers'), none)) }}
{%- set tracked = ['industry', 'region', 'account_manager', 'country_code', 'status'] %}

with

snapshots as (

    select current_rows.* from {{ ref('stg_crm__customer_snapshots') }} as current_rows
    -- in a delta build, every snapshot of the touched customers
    where {{ is_touched('customers', entity_key('customers'), 'current_rows') }}

),

running as (

    -- per snapshot, over the customer's snapshots up to it: the latest updated_at and
    -- whether any of them lacks one
    select
        *,
        max(updated_at) over (
            partition by customer_id order by extract_date
            rows between unbounded preceding and current row
        ) as latest_updated_at,
        sum(case when is_timestamped then 0 else 1 end) over (
            partition by customer_id order by extract_date
            rows between unbounded preceding and current row
        ) as untimestamped_snapshots
    from snapshots

),

latest_timestamped as (

    -- the last snapshot up to this one that holds the latest updated_at so far (a snapshot
    -- that holds it held the latest so far when it came)
    select
        *,
        max(case when updated_at = latest_updated_at then extract_date end) over (
            partition by customer_id order by extract_date
            rows between unbounded preceding and current row
        ) as latest_timestamped_extract_date
    from running

),

known as (

    -- the snapshot whose attributes the re-delivery rule (macro latest_delivery) picks from
    -- those delivered up to this one: when all carry updated_at, the latest updated_at, then
    -- the later extract date; when any lacks it, the later extract date, this snapshot
    select
        customer_id,
        extract_date as known_from,
        case
            when untimestamped_snapshots > 0 then extract_date
            else latest_timestamped_extract_date
        end as winning_extract_date
    from latest_timestamped

),

states as (

    select
        known.customer_id,
        known.known_from,
        winner.industry,
        winner.region,
        winner.account_manager,
        winner.country_code,
        winner.status
    from known
    inner join snapshots as winner
        on
            known.customer_id = winner.customer_id
            and known.winning_extract_date = winner.extract_date

),

previous_states as (

    select
        *,
        lag(known_from) over (
            partition by customer_id order by known_from
        ) as previous_known_from,
        lag(industry) over (partition by customer_id order by known_from) as previous_industry,
        lag(region) over (partition by customer_id order by known_from) as previous_region,
        lag(account_manager) over (
            partition by customer_id order by known_from
        ) as previous_account_manager,
        lag(country_code) over (
            partition by customer_id order by known_from
        ) as previous_country_code,
        lag(status) over (partition by customer_id order by known_from) as previous_status
    from states

),

changes as (

    -- a version starts with the first snapshot and wherever a tracked attribute changes
    -- (an empty value equals an empty one: macro values_differ)
    select
        *,
        case
            when previous_known_from is null then 1
            {% for attribute in tracked -%}
                when {{ values_differ(attribute, 'previous_' ~ attribute) }} then 1
            {% endfor -%}
            else 0
        end as is_new_version
    from previous_states

),

numbered as (

    select
        *,
        sum(is_new_version) over (
            partition by customer_id order by known_from
            rows between unbounded preceding and current row
        ) as version_number
    from changes

),

versions as (

    -- the snapshots of one version share its attributes
    select
        customer_id,
        version_number,
        min(known_from) as valid_from,
        industry,
        region,
        account_manager,
        country_code,
        status
    from numbered
    group by
        customer_id, version_number, industry, region, account_manager, country_code, status

),

with_ends as (

    select
        *,
        lead(valid_from) over (partition by customer_id order by valid_from) as valid_to
    from versions

),

final as (

    select
        customer_id,
        cast(version_number as integer) as version_number,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        industry,
        region,
        account_manager,
        country_code,
        status
    from with_ends

)

select * from final
