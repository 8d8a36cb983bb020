"""Stand-in for dbt's `target`, for sqlfluff's jinja templater only: the default target."""

type = "duckdb"
name = "dev"
