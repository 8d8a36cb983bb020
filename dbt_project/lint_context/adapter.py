"""Stand-in for dbt's `adapter` object, for sqlfluff's jinja templater only.

`adapter.dispatch(name, namespace)` returns the project's `duckdb__<name>` macro when there
is one, else `default__<name>`, as dbt does on the default target. dbt itself uses its real
adapter.
"""

from jinja2 import pass_context


@pass_context
def dispatch(context, macro_name, macro_namespace=None):
    for prefix in ("duckdb__", "default__"):
        macro = context.get(prefix + macro_name)
        if macro is not None:
            return macro
    raise KeyError(f"no duckdb__ or default__ version of macro {macro_name}")


def get_relation(database=None, schema=None, identifier=None):
    """No relation exists while linting: a model that asks lints its branch for a missing one."""
    return None
