"""The raw assets (one landing file each, partitioned by extract date) and their checks."""
