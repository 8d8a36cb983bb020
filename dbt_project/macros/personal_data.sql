{#
    Masks personal data in free text: e-mail addresses become `[E-Mail]`, phone numbers
    `[Telefon]`. Used once per column in staging, so every mart shows the masked text; the
    raw tables keep what was delivered. The var `mask_personal_data` (default true) switches
    it off. What counts as an e-mail address (obfuscated forms such as `Jan.Meier(at)alpha.de`
    included) is the macro `email_pattern` (personal_data_patterns.sql, generated).

    The patterns mean the same in RE2 (DuckDB) and Java (Spark): character classes only,
    no backslashes, no look-around. What counts as a phone number:
    - `+` and a country code, then at least 6 digits (separators: blank, `/`, `-`, brackets),
      e.g. +49 (0)30 1234567, +1 (555) 123-4567;
    - `00` and a country code, a separator, then at least 6 digits: 0049 89 1234567;
    - a national number: `0` and a 2-5 digit area code (optionally in brackets), a
      separator, then at least 6 digits, so 9 digits or more: 030/12345678, 0171-1234567;
    - a German mobile number written without separators: 015x, 016x, 017x and 8 or more
      digits: 01711234567.
    It starts after a character that is neither a letter nor a digit. So dates (31.03.2026,
    2026-03-31), amounts (1.234,56 EUR), postcodes (80331, 01067), order numbers
    (4500012345, 0090001234, 0815-4711) stay as they are.
#}
{% macro mask_personal_data(text) -%}
    {%- if var('mask_personal_data') | string | lower in ['false', '0', 'no', 'off'] -%}
        {{ text }}
    {%- else -%}
        {%- set separators = '[ ()/-]{0,3}' -%}
        {%- set phone_pattern = (
            '(^|[^0-9A-Za-zÀ-ÿ])('
            ~ '[+][1-9][0-9]{0,2}(' ~ separators ~ '[0-9]){6,}'
            ~ '|00[1-9][0-9]{0,2}[ ()/-]{1,3}[0-9](' ~ separators ~ '[0-9]){5,}'
            ~ '|[(]?0[1-9][0-9]{1,4}[)]?[ /-]{1,3}[0-9](' ~ separators ~ '[0-9]){5,}'
            ~ '|01[5-7][0-9]{8,}'
            ~ ')'
        ) -%}
        {{ regexp_replace_all(
            regexp_replace_all(text, email_pattern(), '[E-Mail]'),
            phone_pattern,
            '[Telefon]',
            keep_first_group=true
        ) }}
    {%- endif -%}
{%- endmacro %}

{#
    Masks e-mail addresses in a code (`industry`, `department`, ...): an address becomes
    `[E-Mail]`; the rest of the value, and every other value, stays. Phone numbers are not
    looked for: a code's digits are an article or a cost centre. Switched off with the same
    var `mask_personal_data`.
#}
{% macro mask_email(text) -%}
    {%- if var('mask_personal_data') | string | lower in ['false', '0', 'no', 'off'] -%}
        {{ text }}
    {%- else -%}
        {{ regexp_replace_all(text, email_pattern(), '[E-Mail]') }}
    {%- endif -%}
{%- endmacro %}
