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

dbt's limit grows with the data (``dbt_memory_limit``): DuckDB keeps part of a window's and a hash
join's state pinned in memory, and at 500,000 enterprises (103 M energy rows) reporting_status
and int_enterprise_period stopped at 2GB with "failed to pin block" (bench/README.md). So it is
1 GB per ENERGY_ROWS_PER_GB staged energy rows, never under 2GB (the 50k budget above holds) and
never over half the machine's memory.

``HZCARBON_DUCKDB_MEMORY_LIMIT`` (e.g. ``4GB`` on a machine with memory to spare) overrides
dbt's limit; the Python connections keep theirs (they run while dbt does not).

Above YEAR_AT_A_TIME_ENERGY_ROWS staged energy rows, the full builds of those two models run one
statement per year (dbt_project/macros/year_at_a_time.sql), so that a window or a hash join
holds one year's state; below it one statement over every year is faster (each statement
plans and scans its inputs again). ``HZCARBON_DBT_YEAR_AT_A_TIME`` (1 or 0) overrides the choice.
"""

import math
import os
from typing import Any

# dbt's connection: the models, the tests, and bench/floor.sql (the benchmark's floor)
DBT_MEMORY_LIMIT = "2GB"  # the least it gets
ENERGY_ROWS_PER_GB = 6_000_000
MAX_SHARE_OF_MEMORY = 0.5
DBT_MEMORY_LIMIT_ENV = "HZCARBON_DUCKDB_MEMORY_LIMIT"
DBT_THREADS_ENV = "HZCARBON_DUCKDB_THREADS"
YEAR_AT_A_TIME_ENERGY_ROWS = 30_000_000
YEAR_AT_A_TIME_ENV = "HZCARBON_DBT_YEAR_AT_A_TIME"
# The connections of the Python steps: they read marts whole into polars beside DuckDB's pool
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2


def duckdb_config(memory_limit: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """The ``config`` of ``duckdb.connect``: the limits given, else the defaults."""
    return {"memory_limit": str(memory_limit or DEFAULT_MEMORY_LIMIT), "threads": int(threads or DEFAULT_THREADS)}


def dbt_memory_limit(env: dict[str, str] | None = None, staged_energy_rows: int = 0) -> str:
    """``HZCARBON_DUCKDB_MEMORY_LIMIT`` when set, else 1 GB per ENERGY_ROWS_PER_GB staged energy
    rows, at least DBT_MEMORY_LIMIT and at most MAX_SHARE_OF_MEMORY of the machine's memory."""
    env = os.environ if env is None else env
    if env.get(DBT_MEMORY_LIMIT_ENV):
        return env[DBT_MEMORY_LIMIT_ENV]
    least = int(DBT_MEMORY_LIMIT.removesuffix("GB"))
    most = max(least, int(MAX_SHARE_OF_MEMORY * physical_memory_bytes() / 2**30))
    return f"{min(most, max(least, math.ceil(staged_energy_rows / ENERGY_ROWS_PER_GB)))}GB"


def year_at_a_time(env: dict[str, str] | None = None, staged_energy_rows: int = 0) -> bool:
    """``HZCARBON_DBT_YEAR_AT_A_TIME`` when set (1 or 0), else whether more than
    YEAR_AT_A_TIME_ENERGY_ROWS energy rows are staged."""
    env = os.environ if env is None else env
    if env.get(YEAR_AT_A_TIME_ENV) in ("0", "1"):
        return env[YEAR_AT_A_TIME_ENV] == "1"
    if env.get(YEAR_AT_A_TIME_ENV):
        raise ValueError(f"{YEAR_AT_A_TIME_ENV} must be 1 or 0, not {env[YEAR_AT_A_TIME_ENV]!r}")
    return staged_energy_rows > YEAR_AT_A_TIME_ENERGY_ROWS


def physical_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def dbt_environment(env: dict[str, str] | None = None, staged_energy_rows: int = 0) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads its DuckDB limits from, and the year-at-a-time
    choice dbt_project/macros/year_at_a_time.sql reads, for every dbt call."""
    return {DBT_MEMORY_LIMIT_ENV: dbt_memory_limit(env, staged_energy_rows), DBT_THREADS_ENV: str(DEFAULT_THREADS),
            YEAR_AT_A_TIME_ENV: "1" if year_at_a_time(env, staged_energy_rows) else "0"}


if __name__ == "__main__":  # `eval "$(python -m warehouse.duckdb_limits)"` before a direct dbt call
    for name, value in dbt_environment().items():
        print(f"export {name}={value}")
