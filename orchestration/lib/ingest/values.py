"""The value formats of both dialects, as DuckDB SQL expressions over a trimmed, non-empty
VARCHAR: decimals ('1.234,56' or '1234.56'), integers, dates and timestamps (ISO or German).
A text that is no value of its kind gives NULL; rules.py turns that into a reason code."""

from __future__ import annotations

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
TIMESTAMP_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def decimal_sql(value: str, decimal_comma: bool) -> str:
    """DECIMAL(18,4) or NULL when the text is no number of the dialect.

    German: '1.234,56', '1234,56', '-0,5'; standard: '1234.56', '-0.5'. Thousands separators
    must group by three. Too many digits for DECIMAL(18,4) -> NULL.
    """
    if decimal_comma:
        pattern = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"
        canonical = f"replace(replace({value}, '.', ''), ',', '.')"
    else:
        pattern = r"^[+-]?\d+(\.\d+)?$"
        canonical = value
    return (
        f"case when regexp_full_match({value}, '{pattern}') "
        f"then try_cast({canonical} as decimal(18,4)) end"
    )


def int_sql(value: str) -> str:
    """INTEGER or NULL: optional sign and digits only."""
    pattern = "[+-]?\\d+"
    return (
        f"case when regexp_full_match({value}, '{pattern}') "
        f"then try_cast({value} as integer) end"
    )


def _strptime_sql(value: str, formats: tuple[str, ...]) -> str:
    """try_strptime over the formats in order, the first that parses wins.

    A format is only tried on text holding its separator ('-' or '.'): it cannot match
    otherwise, and a failing try_strptime costs ten times a succeeding one.
    """
    tries = []
    for fmt in formats:
        separator = "-" if "-" in fmt else "."
        tries.append(
            f"case when contains({value}, '{separator}') then try_strptime({value}, '{fmt}') end"
        )
    return tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"


def date_sql(value: str) -> str:
    """DATE from '2025-03-31' or '31.03.2025' (either dialect), else NULL."""
    return f"cast({_strptime_sql(value, DATE_FORMATS)} as date)"


def timestamp_sql(value: str) -> str:
    """TIMESTAMP from ISO ('2025-03-31 14:05:00', '2025-03-31T14:05:00', '2025-03-31') or
    German ('31.03.2025 14:05:00', '31.03.2025 14:05', '31.03.2025'), else NULL."""
    return (
        f"coalesce(case when regexp_full_match({value}, '\\d{{4}}-\\d{{2}}-\\d{{2}}([ T].*)?') "
        f"then try_cast({value} as timestamp) end, "
        f"{_strptime_sql(value, TIMESTAMP_FORMATS)})"
    )


def parse_sql(kind: str, value: str, decimal_comma: bool) -> str:
    """The typed-value expression for a column kind."""
    if kind == "decimal":
        return decimal_sql(value, decimal_comma)
    if kind == "int":
        return int_sql(value)
    if kind == "date":
        return date_sql(value)
    if kind == "timestamp":
        return timestamp_sql(value)
    return value
