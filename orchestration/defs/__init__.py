"""Dagster only, by concern; `definitions.py` merges them into the code location."""
