"""What people see of the published warehouse: the load summary, the charts, the export, the
value statement, and what they share: the read-only warehouse, its periods and reference data."""
