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


def test_a_file_being_created_is_written_without_flushes_then_kept_like_the_others(tmp_path):
    """Dagster creates a file's tables before it switches the file to WAL: those statements run
    with synchronous=OFF; once in WAL, connections get NORMAL and the end flushes the file."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    path = home / "new.db"
    with deferred_flushes(home):
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        with engine.connect() as conn, conn.begin():
            creating = conn.execute(sa.text("PRAGMA synchronous")).scalar()
            conn.execute(sa.text("CREATE TABLE events (body TEXT)"))
        with engine.connect() as conn:
            conn.execute(sa.text("PRAGMA journal_mode=WAL"))
        levels = _store_events(path, 3)
    assert creating == 0  # OFF
    assert levels == [1] * 3
    assert not path.with_name("new.db-wal").exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 3


def test_a_run_stored_on_one_connection_per_file_reads_back_with_dagsters_own_storage(tmp_path):
    """`hzcarbon run`'s instance (one kept connection per event file) writes what a default
    instance on the same home (`make dev`) reads: the run's events, its asset index, its checks."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from orchestration.run_history import OneEngineSqliteEventLogStorage, storage_overrides

    @dg.asset
    def one():
        return 1

    @dg.asset_check(asset=one)
    def positive():
        return dg.AssetCheckResult(passed=True)

    home = tmp_path / "dagster_home"
    home.mkdir()
    with deferred_flushes(home):
        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=storage_overrides(home)))
        assert isinstance(instance.event_log_storage, OneEngineSqliteEventLogStorage)
        runs = [dg.materialize([one, positive], instance=instance) for _ in range(2)]
        instance.dispose()
    assert all(r.success for r in runs)
    assert not list(home.rglob("*.db-wal"))  # every file checkpointed at the end
    with dg.DagsterInstance.from_config(str(home)) as reader:
        assert type(reader.event_log_storage).__name__ == "SqliteEventLogStorage"
        for run in runs:
            types = [e.dagster_event.event_type_value for e in reader.all_logs(run.run_id) if e.dagster_event]
            assert types.count("ASSET_MATERIALIZATION") == 1 and types.count("ASSET_CHECK_EVALUATION") == 1
            assert types[-1] == "PIPELINE_SUCCESS"  # RUN_SUCCESS, by its stored name
        assert reader.get_latest_materialization_event(dg.AssetKey("one")).run_id == runs[-1].run_id
        assert len(reader.get_runs()) == 2
