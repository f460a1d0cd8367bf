"""The memory and thread limits of every DuckDB connection of a run, set in one place: dbt's
connection (its own process; dbt_project/profiles.yml reads them from the environment that
``dbt_environment`` gives every dbt call) and the connections the warehouse code opens
(candidate, snapshot, diff). The machine has 2 cores; a connection without a limit takes 80 %
of memory.

The budget (docs/design.md, "Memory"): a run's peak RSS stays under 3 GiB at 50,000 enterprises.
DuckDB's memory_limit bounds its buffer pool, not the process: dbt's process sits ~0.4 GB above
it (dbt's Python, DuckDB's allocations outside the pool), and the Dagster process beside it holds
~0.4 GB. Above that DuckDB spills the rest of a large sort or join to ``<hzcarbon.duckdb>.tmp`` in the
warehouse (bench/results/rss_50000_20261207.md: 3GB against 2GB at 50k).

``HZCARBON_DUCKDB_MEMORY_LIMIT`` (e.g. ``4GB`` on a machine with memory to spare) overrides
dbt's limit; the Python connections keep theirs (they run while dbt does not).
"""

import os
from typing import Any

# dbt's connection: the models, the tests, and bench/floor.sql (the benchmark's floor)
DBT_MEMORY_LIMIT = "2GB"
DBT_MEMORY_LIMIT_ENV = "HZCARBON_DUCKDB_MEMORY_LIMIT"
DBT_THREADS_ENV = "HZCARBON_DUCKDB_THREADS"
# The connections of the Python steps: they read marts whole into polars beside DuckDB's pool
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2


def duckdb_config(memory_limit: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """The ``config`` of ``duckdb.connect``: the limits given, else the defaults."""
    return {"memory_limit": str(memory_limit or DEFAULT_MEMORY_LIMIT), "threads": int(threads or DEFAULT_THREADS)}


def dbt_memory_limit(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get(DBT_MEMORY_LIMIT_ENV) or DBT_MEMORY_LIMIT


def dbt_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads its DuckDB limits from, for every dbt call."""
    return {DBT_MEMORY_LIMIT_ENV: dbt_memory_limit(env), DBT_THREADS_ENV: str(DEFAULT_THREADS)}


if __name__ == "__main__":  # `eval "$(python -m warehouse.duckdb_limits)"` before a direct dbt call
    for name, value in dbt_environment().items():
        print(f"export {name}={value}")
