"""The run history's SQLite files written without a disk flush per event.

Dagster's SQLite storage opens a connection for every event it stores (~2,600 in a run of this
job), commits it and closes it. In WAL mode each commit flushes the log to disk and each close of
the file's last connection checkpoints and flushes again: on a busy disk that was ~40 % of a
60-enterprise run's wall time (cProfile: sqlite3 commit and close, bench/results/fixed_cost.md).
While a run writes, `deferred_flushes` sets `synchronous=NORMAL` on each of those connections
(in WAL mode a commit then reaches the log without a flush) and keeps one idle connection per file
open so that a close is never the last one; the files are checkpointed and flushed once, when the
run ends. WAL with synchronous=NORMAL stays consistent after a power loss (it may lose the last
events, never the file)."""

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextlib.contextmanager
def deferred_flushes(home: Path) -> Iterator[None]:
    """Within the block, Dagster's SQLite files under ``home`` flush once at its end, not per event."""
    root = Path(home).resolve()
    keepers: dict[str, sqlite3.Connection] = {}
    lock = threading.Lock()

    def on_connect(dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        try:
            path = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), "")
            if not path or not Path(path).resolve().is_relative_to(root):
                return
            cursor.execute("PRAGMA synchronous=NORMAL")
            # A keeper only helps once the file is in WAL mode (Dagster switches a new file to it).
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                return
            with lock:
                if path not in keepers:
                    keeper = sqlite3.connect(path, check_same_thread=False)
                    keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the WAL index
                    keepers[path] = keeper
        finally:
            cursor.close()

    event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", on_connect)
        with lock:
            for keeper in keepers.values():
                keeper.close()  # the last connection: checkpoints the WAL into the file, flushed
            keepers.clear()
