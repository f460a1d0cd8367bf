"""The run history's SQLite files written without a disk flush per event.

Dagster's SQLite storage opens a connection for every event it stores (~2,600 in a run of this
job), commits it and closes it. In WAL mode each commit flushes the log to disk and each close of
the file's last connection checkpoints and flushes again: on a busy disk that was ~40 % of a
60-enterprise run's wall time (cProfile: sqlite3 commit and close, bench/results/fixed_cost.md).
While a run writes, `deferred_flushes` sets `synchronous=NORMAL` on each of those connections
(in WAL mode a commit then reaches the log without a flush) and keeps one idle connection per file
open so that a close is never the last one; the files are checkpointed and flushed once, when the
run ends. WAL with synchronous=NORMAL stays consistent after a power loss (it may lose the last
events, never the file). A file not yet in WAL mode is one Dagster is creating: written with
synchronous=OFF until then, flushed at the end with the others. `storage_overrides` gives
`hzcarbon run`'s instance an event log that keeps one connection per file (below)."""

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool


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
            # A file not yet in WAL mode is one Dagster is creating (its tables, then WAL): a new
            # Dagster home's files and each run's own event file. Its tables are written without
            # a flush per statement (~2 s of a new home on a busy disk); the file is flushed with
            # the others when the block ends, and a file cut short by a crash held nothing yet.
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA synchronous=OFF")
                return
            cursor.execute("PRAGMA synchronous=NORMAL")
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


# Dagster's SQLite event log creates an SQLAlchemy engine and opens the file anew for every
# statement batch (~2,300 engines in a 60-enterprise run). The storage below keeps one engine and
# one connection per file for the life of the instance, used under Dagster's own lock (which is
# never taken twice by one thread); the files, tables and rows are Dagster's own, so `dagster dev`
# reads them as usual. The run storage stays Dagster's: it nests its connections and is seldom used.


class OneEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run SQLite event log, with one open connection per file (see above)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator:
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                conn_string = self.conn_string_for_shard(shard)
                if shard not in self._initialized_dbs:
                    # created on a connection of its own: the kept one then opens the file in WAL
                    # mode, with what deferred_flushes sets for such files
                    creating = _one_connection_engine(conn_string)
                    self._initdb(creating)
                    creating.dispose()
                    self._initialized_dbs.add(shard)
                engine = self._engines[shard] = _one_connection_engine(conn_string)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _one_connection_engine(conn_string: str) -> Engine:
    return create_engine(conn_string, poolclass=StaticPool,
                         connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})


def storage_overrides(home: Path) -> dict:
    """The instance settings of `hzcarbon run`: the event log storage above beside Dagster's own
    run storage, in Dagster's default places, for a Dagster home without a dagster.yaml (one that
    has its own keeps its storages)."""
    if (Path(home) / "dagster.yaml").exists():
        return {}
    history = Path(home) / "history"
    return {"run_storage": {"module": "dagster._core.storage.runs", "class": "SqliteRunStorage",
                            "config": {"base_dir": str(history)}},
            "event_log_storage": {"module": __name__, "class": OneEngineSqliteEventLogStorage.__name__,
                                  "config": {"base_dir": str(history / "runs")}}}
