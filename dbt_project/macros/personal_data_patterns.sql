{#
    Generated from orchestration/lib/ingest/personal.py; do not edit. To change it,
    edit that module and run: .venv/bin/python -m orchestration.lib.ingest.personal
    What counts as an e-mail address, obfuscated forms such as (at), [at], {at}, a
    blank-separated at before a domain and (dot) included.
#}
{% macro email_pattern() -%}
    {{ return(
        '[0-9A-Za-zÀ-ÿ._%+-]+(([.]|[ ]?([({]|[^ -Z^-~])[Dd][Oo][Tt][])}][ ]?)[0-9A-Za-zÀ-'
        ~ 'ÿ_%+-]+)*(@|[ ]?([({]|[^ -Z^-~])[Aa][Tt][])}][ ]?|[ ]+[Aa][Tt][ ]+)[0-9A-Za-zÀ-ÿ'
        ~ '-]+(([.]|[ ]?([({]|[^ -Z^-~])[Dd][Oo][Tt][])}][ ]?|[ ]+[Dd][Oo][Tt][ ]+)[0-9A-Za'
        ~ '-zÀ-ÿ-]+)*([.]|[ ]?([({]|[^ -Z^-~])[Dd][Oo][Tt][])}][ ]?|[ ]+[Dd][Oo][Tt][ ]+)[A'
        ~ '-Za-z]{2,}'
    ) }}
{%- endmacro %}
