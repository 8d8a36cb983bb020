{#
    One rule for every macro whose SQL depends on the engine (the files of this folder and of
    macros/incremental/), as in dbt-utils:

    - the macro the models call, `name(...)`, only dispatches:
      `adapter.dispatch('name', 'customer_value_warehouse')(...)`;
    - `default__name` is the portable implementation: SQL that every engine runs alike
      (plain SQL, dbt's cross-database macros);
    - an engine that differs is named after its adapter: `duckdb__name`, `spark__name`;
    - where no implementation is portable, each engine the project runs on is named, and
      `default__name` raises `unsupported_engine('name')`, a compiler error that names the
      macro and the adapter.

    Another engine adds its `<adapter>__name` for every macro whose default raises, and for
    those where its spelling differs.
#}

{# The compiler error of a `default__` that has no portable implementation. #}
{% macro unsupported_engine(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        macro_name ~ ": no implementation for the adapter '" ~ adapter.type()
        ~ "'; add the macro " ~ adapter.type() ~ "__" ~ macro_name
        ~ " (rule: macros/cross_engine/dispatch.sql)"
    ) }}
{%- endmacro %}
