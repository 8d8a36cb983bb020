"""Plain libraries of the project: nothing below this package imports Dagster."""
