"""The warehouse: its store of files, the published catalog, the engine, the one writer's lock."""
