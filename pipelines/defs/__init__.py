"""One folder per domain; each exposes `defs`, a `dagster.Definitions` merged by pipelines.definitions."""
