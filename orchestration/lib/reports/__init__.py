"""What people see of the published warehouse: the load summary, the charts, the value
statement, and the read-only queries they share."""
