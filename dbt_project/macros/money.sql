{#
    Exact money rounding.

    DuckDB turns a DECIMAL division into a DOUBLE, and round() on a DOUBLE cannot round
    a half cent reliably (52.335 is stored as 52.33499...). This macro divides a DECIMAL
    numerator (scale <= 6) by a positive integer divisor in integer arithmetic and rounds
    the quotient to cents, half away from zero. The result is DECIMAL(18, 2).
#}
{% macro divide_to_cents_half_away_from_zero(numerator, divisor) -%}
    cast(
        cast(
            sign({{ numerator }})
            * (
                (cast(abs({{ numerator }}) * 1000000 as hugeint) + {{ divisor }} * 5000)
                // ({{ divisor }} * 10000)
            )
            as decimal(38, 0)
        ) * cast(0.01 as decimal(3, 2))
        as decimal(18, 2)
    )
{%- endmacro %}
