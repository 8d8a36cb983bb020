"""Stand-in for dbt's `exceptions` Jinja object, for sqlfluff's jinja templater only.

sqlfluff renders `var()` as a placeholder, so the vars' validations would always fire while
linting; here they render to nothing. dbt itself uses its real `exceptions` object.
"""


def raise_compiler_error(message):
    return ""


def warn(message):
    return ""
