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

{#
    The number of this build: the catalog version it publishes, set by the orchestration as
    CVM_BUILD_NUMBER (0 where none is set: a build by hand, always a full one). Read when dbt
    runs a node, as the build's kind is. Every build of a published state has a number above
    any the state's rows carry: a build that was not published leaves the engine unfinished,
    and the next build is a full one.
#}
{% macro build_number() -%}
    {%- set number = (env_var('CVM_BUILD_NUMBER', '0') | trim) if execute else '0' -%}
    {%- if not number.isdigit() -%}
        {{ exceptions.raise_compiler_error(
            "CVM_BUILD_NUMBER must be a whole number, not '" ~ number ~ "'") }}
    {%- endif -%}
    {%- if execute and cvm_build() == 'delta' and number == '0' -%}
        {{ exceptions.raise_compiler_error(
            "a build over the delta needs its number (CVM_BUILD_NUMBER): the rows it writes "
            ~ "carry it, and its data tests find them by it") }}
    {%- endif -%}
    {{ return(number | int) }}
{%- endmacro %}

{#
    The column `written_in_build` of a model keyed by an extract's key: the number of the
    build that wrote the row. A build over the delta writes the touched keys' rows and no
    other, so those are the rows with its number (macro written_in_this_build). Engine-only:
    publishing leaves it out (orchestration/lib/warehouse/marts.py).
#}
{% macro written_in_build_column() -%}
    cast({{ build_number() }} as {{ dbt.type_bigint() }}) as written_in_build
{%- endmacro %}

{#
    A condition on the row `alias` of a relation that carries `written_in_build`: this build
    wrote it. After the model is built, in a build over the delta, these are its touched keys'
    rows, found by a comparison with a constant: DuckDB skips every row group whose numbers
    lie below it (the rows of earlier builds), where a semi-join on the touched keys reads the
    key column of the whole history.
#}
{% macro written_in_this_build(alias) -%}
    {{ alias }}.written_in_build = {{ build_number() }}
{%- endmacro %}
