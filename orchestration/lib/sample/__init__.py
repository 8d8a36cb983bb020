"""Sample extract generator: realistic landing folders, deterministic for a seed."""
