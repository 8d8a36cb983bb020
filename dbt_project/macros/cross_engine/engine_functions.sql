{#
    The few SQL functions that are spelled differently on the engines the project runs on
    (DuckDB, the embedded default, and Apache Spark). Models call these macros and never an
    engine's own spelling. No spelling is portable: each macro names both engines
    (`duckdb__`, `spark__`) and its `default__` raises (the rule: dispatch.sql).
#}

{#
    Fails the query with `message` (a SQL string expression) when it is evaluated. Spark
    drops unused columns before evaluating them, so filter on the result (`where ... is null`)
    to make sure every row raises.
#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'customer_value_warehouse')(message)) }}
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{% macro default__raise_error(message) -%}
    {{ unsupported_engine('raise_error') }}
{%- endmacro %}

{#
    A set-returning select expression: one row per whole number 0, 1, ..., upper_bound (an
    integer expression; no rows when it is null or negative).
#}
{% macro integer_series(upper_bound) -%}
    {{ return(adapter.dispatch('integer_series', 'customer_value_warehouse')(upper_bound)) }}
{%- endmacro %}

{% macro duckdb__integer_series(upper_bound) -%}
    unnest(generate_series(0, {{ upper_bound }}))
{%- endmacro %}

{% macro spark__integer_series(upper_bound) -%}
    explode(sequence(0, {{ upper_bound }}))
{%- endmacro %}

{% macro default__integer_series(upper_bound) -%}
    {{ unsupported_engine('integer_series') }}
{%- endmacro %}

{#
    Replaces every match of `pattern` in `text`. The pattern must mean the same in RE2
    (DuckDB) and in Java (Spark): character classes instead of backslash escapes, no
    look-around. With keep_first_group, the text matched by the pattern's first group is kept
    in front of the replacement (a boundary character the pattern had to consume).
#}
{% macro regexp_replace_all(text, pattern, replacement, keep_first_group=false) -%}
    {%- for literal in [pattern, replacement] -%}
        {%- if "'" in literal or "\\" in literal or "$" in literal -%}
            {{ exceptions.raise_compiler_error(
                "regexp_replace_all: quotes, backslashes and $ are read differently by the "
                ~ "engines; use character classes instead, got " ~ literal
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'customer_value_warehouse')(
        text, pattern, replacement, keep_first_group
    )) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(text, pattern, replacement, keep_first_group=false) -%}
    regexp_replace(
        {{ text }},
        '{{ pattern }}',
        '{{ ("\\1" if keep_first_group else "") ~ replacement }}',
        'g'
    )
{%- endmacro %}

{% macro spark__regexp_replace_all(text, pattern, replacement, keep_first_group=false) -%}
    regexp_replace(
        {{ text }},
        '{{ pattern }}',
        '{{ ("$1" if keep_first_group else "") ~ replacement }}'
    )
{%- endmacro %}

{% macro default__regexp_replace_all(text, pattern, replacement, keep_first_group=false) -%}
    {{ unsupported_engine('regexp_replace_all') }}
{%- endmacro %}
