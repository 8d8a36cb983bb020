"""Documents and views on the published warehouse: read-only queries, texts, the statement."""
