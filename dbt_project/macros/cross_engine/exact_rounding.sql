{#
    Exact decimal division, rounded half away from zero: round(numerator / divisor, scale).

    The engines disagree on decimal division: DuckDB turns it into a DOUBLE (52.335 becomes
    52.33499...), Spark cuts the quotient to decimal(38, 6 or 7) and rounds a second time when
    it is cast. Neither rounds a half cent reliably. This macro never divides a decimal that
    is not an exact multiple: it works in whole units of 10^-numerator_scale.

    - numerator: a DECIMAL expression with at most `numerator_scale` decimal places (<= 6);
    - divisor: a positive whole number, a literal or an expression (e.g. days in a period);
    - the result is DECIMAL(18, scale), scale <= numerator_scale.

    With n = |numerator| * 10^numerator_scale and d = divisor * 10^(numerator_scale - scale),
    the rounded quotient in units of 10^-scale is q = floor((2n + d) / (2d)). That floor is a
    long division in two steps of nine digits, so that every division divides an exact
    multiple below 2^53: exact on any engine, whether it divides in DOUBLE or in DECIMAL (the
    portable `default__`; the rule: dispatch.sql).
    That holds while 2d < 9 * 10^6 and the result fits DECIMAL(18, scale) (then 2n + d stays
    below 10^18 * 2d < 9 * 10^24). A larger result overflows the final cast: an error, or,
    on an engine that returns NULL on an overflow, a NULL that the marts' not_null tests
    report.
#}
{% macro divide_rounded_half_away(numerator, divisor, scale, numerator_scale=6) -%}
    {{ return(adapter.dispatch('divide_rounded_half_away', 'customer_value_warehouse')(
        numerator, divisor, scale, numerator_scale
    )) }}
{%- endmacro %}

{% macro default__divide_rounded_half_away(numerator, divisor, scale, numerator_scale=6) -%}
    {%- if numerator_scale > 6 or scale > numerator_scale -%}
        {{ exceptions.raise_compiler_error(
            "divide_rounded_half_away: scale " ~ scale ~ " and numerator_scale "
            ~ numerator_scale ~ " must satisfy scale <= numerator_scale <= 6"
        ) }}
    {%- endif -%}
    {%- set whole = 'decimal(27, 0)' -%}
    {#- 2n + d and 2d as whole numbers -#}
    {%- set units -%}
        cast(abs({{ numerator }}) * {{ 10 ** numerator_scale }} as {{ whole }})
    {%- endset -%}
    {%- set half_step -%}
        cast(({{ divisor }}) * {{ 10 ** (numerator_scale - scale) }} as {{ whole }})
    {%- endset -%}
    {%- set dividend -%}
        cast(2 * {{ units }} + {{ half_step }} as {{ whole }})
    {%- endset -%}
    {%- set step -%}
        cast(2 * {{ half_step }} as {{ whole }})
    {%- endset -%}
    {#- dividend = high * 10^9 + low; both parts and every remainder stay below 2^53 -#}
    {%- set low -%}
        ({{ dividend }} % 1000000000)
    {%- endset -%}
    {%- set high -%}
        cast(({{ dividend }} - {{ low }}) * cast(0.000000001 as decimal(10, 9)) as {{ whole }})
    {%- endset -%}
    {%- set high_remainder -%}
        ({{ high }} % {{ step }})
    {%- endset -%}
    {%- set low_dividend -%}
        ({{ high_remainder }} * 1000000000 + {{ low }})
    {%- endset -%}
    {%- set quotient -%}
        (
            cast(({{ high }} - {{ high_remainder }}) / {{ step }} as {{ whole }}) * 1000000000
            + cast(({{ low_dividend }} - {{ low_dividend }} % {{ step }}) / {{ step }} as {{ whole }})
        )
    {%- endset -%}
    cast(
        case when {{ numerator }} < 0 then -1 else 1 end
        * {{ quotient }}
        * cast({{ '1' if scale == 0 else '0.' ~ '0' * (scale - 1) ~ '1' }} as decimal({{ scale + 1 }}, {{ scale }}))
        as decimal(18, {{ scale }})
    )
{%- endmacro %}
