{#
    Data tests over the delta. Every data test of the project carries `where: __touched__`
    (dbt_project.yml); dbt filters the tested relation through `get_where_subquery`. In a delta
    build, a relation with the key columns of service_activities (else of orders; macro
    entity_key) is tested on the touched keys' rows only: the others were tested when they were
    written and have not changed since. An extract as delivered (the source `raw.<extract>`)
    is tested on the rows of the raw files the build added (`cvm_delta.<extract>`): a raw file
    never changes once written, so every other row was tested by the build that added it (a
    semi-join on the touched keys would read every raw file's keys, and could never find a
    row without a key). Where the relation carries `written_in_build` (the
    incremental tables keyed by those extracts, and the views that pass their rows on), those
    are the rows this build wrote (macro written_in_this_build): DuckDB reads only the row
    groups this build wrote. Else the touched keys are found by a semi-join, which reads the
    relation's whole history. Every other relation, and every relation outside a delta build,
    is tested whole. A test with a condition of its own says
    `where: "__touched__ and <condition>"`: the touched keys' rows that meet it in a delta
    build, every row that meets it otherwise. Tests with any other `where` keep dbt's own.
    A scoped filter names its extract in a comment (macro scope_marker), by which a
    `relationships` rule to a parent keyed by that extract reads the parent's rows of this
    build alone (macro parent_read_where_written).

    The relations' columns are read once per dbt invocation (macro tested_columns), not once
    per test: on DuckDB every relation's in one query of the catalog, elsewhere one relation's
    at a time.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set touched_and = '__touched__ and ' -%}
    {%- if where == '__touched__' or (where is string and where.startswith(touched_and)) -%}
        {#- `__touched__ and <condition>`: the touched keys' rows that meet the condition -#}
        {%- set condition = where[touched_and | length:] if where != '__touched__' else none -%}
        {%- set added = added_rows(relation) if execute and cvm_build() == 'delta' else none -%}
        {%- if added is not none -%}
            {#- an extract as delivered: the rows of the raw files this build added -#}
            {%- set filtered -%}
                (select * from {{ added }} as tested
                 {%- if condition is not none %} where ({{ condition }}){% endif %})
                as dbt_subquery
            {%- endset -%}
            {{ return(filtered) }}
        {%- endif -%}
        {%- set scope = delta_scope(relation) -%}
        {%- if scope is none and condition is none -%}
            {{ return(relation) }}
        {%- else -%}
            {%- set filtered -%}
                (select * from {{ relation }} as tested
                 where {{ (written_in_this_build('tested')
                           if 'written_in_build' in tested_columns(relation)
                           else is_touched_relation(scope, entity_key(scope), 'tested'))
                          if scope is not none else 'true' }}
                 {%- if condition is not none %} and ({{ condition }}){% endif %})
                as dbt_subquery
                {%- if scope is not none %} {{ scope_marker(scope) }}{% endif %}
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


{#
    The extract whose touched keys scope the tests of `relation` in a build over the delta:
    the first of service_activities and orders whose key columns (macro entity_key) the
    relation has; none outside a delta build, or for a relation with neither key.
#}
{% macro delta_scope(relation) -%}
    {%- if execute and cvm_build() == 'delta' -%}
        {%- set columns = tested_columns(relation) -%}
        {%- for entity in ['service_activities', 'orders'] -%}
            {%- if entity_key(entity) | reject('in', columns) | list | length == 0 -%}
                {{ return(entity) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#
    The scope of a tested relation, named in its filter (get_where_subquery) as an SQL
    comment, `/* scope: touched <extract> */`, for the test to read back (macro
    scope_of_tested): dbt hands a generic test the filter's text, not the relation.
#}
{% macro scope_marker(entity) -%}
    /* scope: touched {{ entity }} */
{%- endmacro %}

{#
    The extract whose touched keys scope `model`, the tested rows as a generic test receives
    them, by the comment of macro scope_marker; none when the rows are not so scoped (a whole
    relation, any other filter).
#}
{% macro scope_of_tested(model) -%}
    {%- if model is string -%}
        {%- set found = modules.re.search('/\\* scope: touched ([a-z_]+) \\*/\\s*$', model) -%}
        {%- if found -%}{{ return(found.group(1)) }}{%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#
    In a relationship rule of rows scoped to the touched keys of an extract (`model`, as the
    test receives it), whether the parent need be read only where this build wrote it: the
    child's column and the parent's field are the extract's one key column, and the parent
    carries `written_in_build` (an incremental model keyed by that extract, or a view passing
    its rows on). Every value checked is then a touched key; the build deleted each touched
    key's old rows in the parent and wrote its new ones with its number, so a touched key is
    in the parent exactly when it is among the parent's rows of this build. DuckDB reads those
    by their row groups' numbers, where the whole parent's keys cost a scan of its history. A
    parent not built by this build would lack the keys and fail the rule: loud, not silent.
#}
{% macro parent_read_where_written(model, column, parent, field) -%}
    {%- set scope = scope_of_tested(model) -%}
    {%- if scope is none or parent.identifier is not defined -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(entity_key(scope) == [column | lower] and (field | lower) == column | lower
              and 'written_in_build' in tested_columns(parent)) }}
{%- endmacro %}

{#
    The lower-case column names of `relation`, kept for the rest of the dbt invocation in
    `graph` (dbt builds that dict once per invocation and hands the same one to every node).
    The first test that asks reads the columns of every relation of the database in one query
    (macro relations_columns): each lookup of one relation is a macro call with a context of
    its own, about 40 ms of dbt's time, and a delta build's tests ask for some 30 relations. A
    delta build runs the rules of the build before it, so every relation is there with the
    columns its tests read; one made after that read, or on an engine without the query, is
    looked up alone.
#}
{% macro tested_columns(relation) -%}
    {%- set kept = graph.setdefault('cvm_tested_columns', {}) -%}
    {%- if 'cvm_read_at_once' not in kept -%}
        {%- do kept.update(relations_columns()) -%}
        {%- do kept.update({'cvm_read_at_once': []}) -%}
    {%- endif -%}
    {%- set key = relation_key(relation.database, relation.schema, relation.identifier) -%}
    {%- if key not in kept -%}
        {%- do kept.update({key: adapter.get_columns_in_relation(relation)
            | map(attribute='name') | map('lower') | list}) -%}
    {%- endif -%}
    {{ return(kept[key]) }}
{%- endmacro %}

{# The key of a relation in tested_columns: database, schema and name, lower case. #}
{% macro relation_key(database, schema, identifier) -%}
    {{ return((database ~ '.' ~ schema ~ '.' ~ identifier) | lower) }}
{%- endmacro %}

{#
    The lower-case column names of every table and view of the build's database, by
    relation_key; empty where the engine has no such query, so that each relation is looked
    up alone.
#}
{% macro relations_columns() -%}
    {{ return(adapter.dispatch('relations_columns', 'customer_value_warehouse')()) }}
{%- endmacro %}

{% macro default__relations_columns() -%}
    {{ return({}) }}
{%- endmacro %}

{% macro duckdb__relations_columns() -%}
    {%- set found = {} -%}
    {%- set rows = run_query(
        "select table_catalog, table_schema, table_name, lower(column_name)"
        ~ " from information_schema.columns where table_catalog = current_database()"
        ~ " order by table_catalog, table_schema, table_name, ordinal_position") -%}
    {%- for row in rows -%}
        {#- relation_key's key, written out rather than called for each of some 800 rows -#}
        {%- do found.setdefault((row[0] ~ '.' ~ row[1] ~ '.' ~ row[2]) | lower, [])
            .append(row[3]) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#
    The rows of the raw files this build added, as a relation, where `relation` is an
    extract's source `raw.<extract>` (schema `raw` holds the extracts alone; both relations
    are made before the build for every extract: lib/warehouse/build_state.py on DuckDB,
    spark_engine.py on Spark); else none.
#}
{% macro added_rows(relation) -%}
    {%- if (relation.schema or '') | lower == 'raw' -%}
        {{ return(api.Relation.create(
            database=(target.database if target.database is defined else none),
            schema='cvm_delta', identifier=relation.identifier | lower
        )) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
