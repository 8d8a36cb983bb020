"""What people see of the published warehouse: the load summary and the portfolio chart."""
