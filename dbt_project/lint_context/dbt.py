"""Stand-in for dbt's cross-database macros (`dbt.date_trunc`, ...), for sqlfluff's jinja
templater only. They render what dbt-duckdb renders, so that the SQL sqlfluff lints is the
SQL the default target runs. dbt itself uses its real macros.
"""


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def type_string():
    return "text"


def type_timestamp():
    return "timestamp"


def type_bigint():
    return "bigint"
