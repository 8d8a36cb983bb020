{#
    Builds over the delta.

    Before every build the orchestration (lib/warehouse/build_state.py) creates, per extract,
    `cvm_delta.<entity>_keys`: the keys of the raw files added or retired since the last
    build, the touched keys. It sets the environment variable CVM_BUILD to `delta` for an
    incremental build (default `full`; a full build also runs with --full-refresh): an
    environment variable, not a dbt var, because dbt parses the whole project again whenever
    its vars change, while a changed environment variable re-parses only the files that read it.

    An incremental model recomputes the rows of the touched keys, from every delivered version
    of those keys, and replaces them: on DuckDB by deleting the touched keys (a pre-hook) and
    appending their new rows, so that a cancelled or withdrawn key leaves; on an engine
    without row deletes (Spark on Parquet) by overwriting the whole partitions (periods) the
    touched keys were and are in. Outside a delta build (a first build, a full refresh, a
    hand-run `dbt build`) every key counts as touched, which rebuilds the model whole.
#}

{# The kind of this build: `full` or `delta` (set by the orchestration), as text. #}
{% macro cvm_build() -%}
    {{ env_var('CVM_BUILD', 'full') | trim }}
{%- endmacro %}

{#
    True in an incremental build over the delta. The build's kind is read first: a unit test
    (never run in a delta build) has no relation for is_incremental() to look at.
#}
{% macro is_delta_build() -%}
    {{ return(cvm_build() == 'delta' and is_incremental()) }}
{%- endmacro %}

{#
    A condition on the row `alias` for a view under the incremental facts: in a delta build,
    its key is a touched key, so that the facts cost only those rows (a semi-join above the
    view would come after the costing of every row); in any other build, true. The models
    that read the whole history read the facts, never these views.
#}
{% macro in_delta_scope(entity, key_columns, alias) -%}
    {%- if cvm_build() == 'delta' -%}
        {{ is_touched_relation(entity, key_columns, alias) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# The touched keys of an extract, as a relation (Spark has no database above schemas). #}
{% macro touched_keys(entity) -%}
    {{ return(api.Relation.create(
        database=(target.database if target.database is defined else none),
        schema='cvm_delta', identifier=entity ~ '_keys'
    )) }}
{%- endmacro %}

{# A condition on the row `alias`: its key is a touched key (true outside a delta build). #}
{% macro is_touched(entity, key_columns, alias) -%}
    {%- if is_delta_build() -%}
        {{ is_touched_relation(entity, key_columns, alias) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#
    Config of an incremental model keyed by an extract's key: the strategy and the hook that
    take the touched keys' old rows out. `partition_by` is the column by which an engine
    without row deletes overwrites whole partitions.
#}
{% macro keyed_incremental_config(entity, key_columns, partition_by) -%}
    {{ return(scoped_incremental_config(
        "remove_touched('" ~ entity ~ "', " ~ key_columns ~ ")", partition_by
    )) }}
{%- endmacro %}

{#
    Config of an incremental model whose unit is a scope: `remove_call`, the macro call (as
    text) of the DuckDB pre-hook that deletes the scope's old rows; `partition_by`, the column
    by which an engine without row deletes overwrites whole partitions (none: rebuilt whole).
#}
{% macro scoped_incremental_config(remove_call, partition_by) -%}
    {{ return(adapter.dispatch('scoped_incremental_config', 'customer_value_warehouse')(
        remove_call, partition_by
    )) }}
{%- endmacro %}

{% macro duckdb__scoped_incremental_config(remove_call, partition_by) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': '{{ ' ~ remove_call ~ ' }}',
    }) }}
{%- endmacro %}

{% macro default__scoped_incremental_config(remove_call, partition_by) -%}
    {%- if partition_by is none -%}
        {# no partitions to overwrite: rebuilt whole #}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'file_format': 'parquet',
        'partition_by': [partition_by],
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{# DuckDB's pre-hook: delete the touched keys' rows before their new rows are appended. #}
{% macro remove_touched(entity, key_columns) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as current_rows
        where {{ is_touched(entity, key_columns, 'current_rows') }}
    {%- endif -%}
{%- endmacro %}

{#
    The rows an incremental build writes, given `new_rows`, the relation of the touched keys'
    recomputed rows. On DuckDB: those rows (the pre-hook removed the old ones). On an engine
    that overwrites partitions: every row of the partitions those keys were or are in, the
    untouched ones kept from the current table.
#}
{% macro incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    {{ return(adapter.dispatch('incremental_rows', 'customer_value_warehouse')(
        new_rows, entity, key_columns, partition_by
    )) }}
{%- endmacro %}

{% macro duckdb__incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    select * from {{ new_rows }}
{%- endmacro %}

{#
    The table keeps its partition column last (Spark does); the union names the table's
    columns, so that both sides line up whatever the order of `new_rows`.
#}
{% macro default__incremental_rows(new_rows, entity, key_columns, partition_by) -%}
    {%- if not is_delta_build() %}
    select * from {{ new_rows }}
    {%- else %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    select {{ columns | join(', ') }} from {{ new_rows }}
    union all
    select
        {%- for column in columns %}
        kept.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as kept
    where
        not {{ is_touched(entity, key_columns, 'kept') }}
        and kept.{{ partition_by }} in (
            select touched_rows.{{ partition_by }}
            from {{ this }} as touched_rows
            where {{ is_touched(entity, key_columns, 'touched_rows') }}
            union
            select {{ partition_by }} from {{ new_rows }}
        )
    {%- endif %}
{%- endmacro %}

{#
    Data tests over the delta. Every data test of the project carries `where: __touched__`
    (dbt_project.yml); dbt filters the tested relation through `get_where_subquery`. In a delta
    build, a relation with an activity_id or an order_id (order_id, line_no) is tested on the
    touched keys' rows only: the others were tested when they were written and have not changed
    since. Every other relation, and every relation outside a delta build, is tested whole.
    Tests that did not ask for it keep dbt's own `where`.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__touched__' -%}
        {%- set scope = none -%}
        {%- if execute and cvm_build() == 'delta' -%}
            {%- set columns = adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list -%}
            {%- if 'activity_id' in columns -%}
                {%- set scope = ('service_activities', ['activity_id']) -%}
            {%- elif 'order_id' in columns and 'line_no' in columns -%}
                {%- set scope = ('orders', ['order_id', 'line_no']) -%}
            {%- endif -%}
        {%- endif -%}
        {%- if scope is none -%}
            {{ return(relation) }}
        {%- else -%}
            {%- set filtered -%}
                (select * from {{ relation }} as tested
                 where {{ is_touched_relation(scope[0], scope[1], 'tested') }}) as dbt_subquery
            {%- endset -%}
            {{ return(filtered) }}
        {%- endif -%}
    {%- elif where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{# is_touched for a test, where is_incremental() does not apply. #}
{% macro is_touched_relation(entity, key_columns, alias) -%}
    {{ is_in_relation(touched_keys(entity), key_columns, alias) }}
{%- endmacro %}

{# A condition on the row `alias`: its `key_columns` are a row of `relation`. #}
{% macro is_in_relation(relation, key_columns, alias) -%}
    exists (
        select 1 from {{ relation }} as touched
        where
        {%- for key in key_columns %}
            {{ 'and ' if not loop.first }}touched.{{ key }} = {{ alias }}.{{ key }}
        {%- endfor %}
    )
{%- endmacro %}

{#
    Customer and period totals over the delta. A delta build recomputes the sums of every
    customer and period that a touched order line or activity occupied before the build
    (`cvm_delta.customer_periods`, recorded by the orchestration before dbt runs: a
    correction can move a row to another customer or period) or occupies after it: the model
    int_touched_customer_periods. On DuckDB those customer-period rows are deleted and appended
    again; an engine without row deletes overwrites the whole periods (partitions) they are
    in, all of whose rows it recomputes.
#}

{# The customer-period pairs the touched keys occupied before the build, as a relation. #}
{% macro customer_periods_before() -%}
    {{ return(api.Relation.create(
        database=(target.database if target.database is defined else none),
        schema='cvm_delta', identifier='customer_periods'
    )) }}
{%- endmacro %}

{#
    A condition on the row `alias` (with customer_id and period_start) of a fact or of a
    customer-period relation: in a delta build, its sums are recomputed (its customer and
    period are touched; on an engine that overwrites partitions, its period is); in any
    other build, true. `touched` is the relation int_touched_customer_periods.
#}
{% macro in_touched_customer_periods(touched, alias) -%}
    {%- if cvm_build() == 'delta' -%}
        {{ adapter.dispatch('in_touched_customer_periods', 'customer_value_warehouse')(
            touched, alias
        ) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__in_touched_customer_periods(touched, alias) -%}
    {{ is_in_relation(touched, ['customer_id', 'period_start'], alias) }}
{%- endmacro %}

{% macro default__in_touched_customer_periods(touched, alias) -%}
    {{ in_touched_periods(touched, alias) }}
{%- endmacro %}

{#
    A condition on the row `alias` (with period_start): in a delta build, its period holds a
    touched customer and period; in any other build, true. For the tests that compare totals
    per period.
#}
{% macro in_touched_periods(touched, alias) -%}
    {%- if cvm_build() == 'delta' -%}
        {{ alias }}.period_start in (select touched.period_start from {{ touched }} as touched)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# DuckDB's pre-hook: delete the touched customer-period rows before they are appended again. #}
{% macro remove_touched_customer_periods(touched) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as current_rows
        where {{ in_touched_customer_periods(touched, 'current_rows') }}
    {%- endif -%}
{%- endmacro %}
