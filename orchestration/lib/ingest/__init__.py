"""Landing file -> typed raw table: spec, dialect, reading, row rules, writing, expectations."""
