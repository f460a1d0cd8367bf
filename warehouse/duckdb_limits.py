"""The memory and thread limits of every DuckDB connection the warehouse code opens (candidate,
snapshot, diff), set in one place. The machine has 2 cores; a connection without a limit takes
80 % of memory. dbt's own connection is configured in dbt_project/profiles.yml (it runs in its
own process, with a larger budget for the marts)."""

from typing import Any

DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2


def duckdb_config(memory_limit: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """The ``config`` of ``duckdb.connect``: the limits given, else the defaults."""
    return {"memory_limit": str(memory_limit or DEFAULT_MEMORY_LIMIT), "threads": int(threads or DEFAULT_THREADS)}
