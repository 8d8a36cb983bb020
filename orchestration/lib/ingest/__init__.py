"""Landing file -> raw zone file: spec, dialect, reading, row rules, writing, expectations."""
