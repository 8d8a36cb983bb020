"""The warehouse files: the work copy, the one writer's lock, publishing."""
