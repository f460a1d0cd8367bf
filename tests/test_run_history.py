"""The run history's SQLite files flush once per run (orchestration/run_history.py), with real
SQLite files written through SQLAlchemy as Dagster's storage writes them: a connection per event."""

import sqlite3

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from orchestration.run_history import deferred_flushes


def _wal_file(tmp_path, name: str):
    path = tmp_path / name
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE events (body TEXT)")
    conn.close()
    return path


def _store_events(path, n: int) -> list[int]:
    """n events, each on its own engine and connection (Dagster's SQLite storage); the
    `synchronous` level each connection ran with."""
    levels = []
    for i in range(n):
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.text("INSERT INTO events VALUES (:b)"), {"b": f"event {i}"})
            levels.append(conn.execute(sa.text("PRAGMA synchronous")).scalar())
        engine.dispose()
    return levels


def test_events_commit_without_a_flush_and_the_file_is_checkpointed_at_the_end(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    inside, outside = _wal_file(home, "index.db"), _wal_file(tmp_path, "other.db")
    with deferred_flushes(home):
        levels = _store_events(inside, 5)
        # the log is kept open between events (no checkpoint per close) ...
        assert inside.with_name("index.db-wal").exists()
        other_levels = _store_events(outside, 2)
        # ... only under the Dagster home: elsewhere the last close checkpoints as usual
        assert not outside.with_name("other.db-wal").exists()
    assert levels == [1] * 5  # NORMAL: a WAL commit without a disk flush
    assert other_levels == [2, 2]  # FULL, SQLite's default, untouched
    # at the end the last connection closed: the log went into the file, every event kept
    assert not inside.with_name("index.db-wal").exists()
    with sqlite3.connect(inside) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 5
    conn.close()
    # after the block new connections are as before
    assert _store_events(inside, 1) == [2]
