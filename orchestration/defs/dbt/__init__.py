"""The dbt project as Dagster assets; dbt tests as asset checks."""
