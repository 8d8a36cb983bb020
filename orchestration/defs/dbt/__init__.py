"""The dbt project as Dagster assets; dbt tests as asset checks.

dagster-dbt is imported here first, without dbt-core in this process (without_dbt.py)."""

from orchestration.defs.dbt.without_dbt import import_dagster_dbt

import_dagster_dbt()
