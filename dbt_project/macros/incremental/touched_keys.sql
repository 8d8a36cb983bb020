{#
    The touched keys of an extract (macros/incremental/build_kind.sql), and the conditions on
    a row whose key columns (macro entity_key) are among them.
#}

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
    A condition on the row `alias` of an incremental model keyed by an extract's key, read
    after the model was built (by a view under the facts, a fact's test): in a delta build,
    the build wrote it, so it is a touched key's row (macro written_in_this_build: DuckDB skips
    the row groups of earlier builds); in any other build, true. A view under the incremental
    facts filters so, so that the facts cost only those rows (a semi-join above the view would
    come after the costing of every row). The models that read the whole history read the
    facts, never these views.
#}
{% macro in_delta_scope(alias) -%}
    {%- if cvm_build() == 'delta' -%}
        {{ written_in_this_build(alias) }}
    {%- else -%}
        true
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
