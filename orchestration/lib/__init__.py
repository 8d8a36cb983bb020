"""Plain libraries that know nothing of Dagster: ingest, warehouse storage, audit tables,
landing root, sample generator and reports. Nothing below this package imports dagster."""
