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
    touched keys were and are in, after dropping (a pre-hook) those the build would leave
    without rows, which an overwrite does not reach. Outside a delta build (a first build, a full refresh, a
    hand-run `dbt build`) every key counts as touched, which rebuilds the model whole.

    The macros of this folder, one concern a file:
    - build_kind.sql: the kind of this build (`full` or `delta`);
    - touched_keys.sql: the touched keys of an extract, and the conditions on a row's key;
    - incremental_config.sql: the config and the rows of a model keyed by an extract's key or
      by another scope (dispatched by engine: macros/cross_engine/dispatch.sql);
    - customer_periods.sql: the customers and periods whose sums a delta build recomputes;
    - data_tests_scope.sql: the rows the data tests see in a delta build.
    An extract's key columns: macro entity_key (macros/entity_key.sql).
#}

{#
    The kind of this build: `full` or `delta` (set by the orchestration), as text. Read when
    dbt runs a node, never while it parses the project (there it is `full`; no branch on the
    kind holds a ref or a config): dbt keeps the environment variables that parsing read and
    parses every file that read one again once its value changes, so that the first delta
    build after a full one would parse a third of the project again.
#}
{% macro cvm_build() -%}
    {%- if execute -%}
        {{ env_var('CVM_BUILD', 'full') | trim }}
    {%- else -%}
        full
    {%- endif -%}
{%- endmacro %}

{#
    True in an incremental build over the delta. The build's kind is read first: a unit test
    (never run in a delta build) has no relation for is_incremental() to look at.
#}
{% macro is_delta_build() -%}
    {{ return(cvm_build() == 'delta' and is_incremental()) }}
{%- endmacro %}
