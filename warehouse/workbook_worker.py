"""District workbooks written in worker processes (warehouse.extracts, docs/outputs.md).

The writer binding holds the GIL for part of its work, so two threads write only ~1.3× as fast
as one. A worker is a plain ``python -m warehouse.workbook_worker`` process that imports only
what writing needs (polars, the contracts, the binding: ~1 s CPU, against the ~1.5 s of what the
CLI imports, and never Dagster, dbt or DuckDB), reads one job a line on stdin — the workbook's
path, district, release info and the Parquet files it is written from — and answers ``ok`` or
the error on stdout. Not multiprocessing: its spawn and forkserver children import the parent's
``__main__`` (the CLI, hence Dagster), and forking a process whose Polars and DuckDB thread
pools run is unsafe. Same inputs, same bytes as a workbook written in the parent.
"""

import json
import os
import subprocess
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path


def job(xlsx: Path, code: str, name: str, release, sheets: list[tuple[str, str]], city: dict[str, str]) -> dict:
    """One workbook as a job line: ``release`` a warehouse.workbook.ReleaseInfo, ``sheets``
    (table, Parquet path) of the district, ``city`` {table: Parquet path} of the 概览 tables."""
    return {"xlsx": str(xlsx), "code": code, "name": name,
            "release": [release.release_id, release.as_of, release.built.isoformat()],
            "sheets": [list(s) for s in sheets], "city": dict(city)}


def write_job(spec: dict) -> None:
    import polars as pl

    from warehouse.workbook import ReleaseInfo, write_district_workbook_from

    rid, as_of, built = spec["release"]
    write_district_workbook_from(Path(spec["xlsx"]), spec["code"], spec["name"], ReleaseInfo(rid, as_of, date.fromisoformat(built)),
                      {t: pl.read_parquet(p) for t, p in spec["sheets"]},
                      {t: pl.read_parquet(p) for t, p in spec["city"].items()})


def serve() -> None:
    for line in sys.stdin:
        try:
            write_job(json.loads(line))
            answer = "ok"
        except Exception:  # noqa: BLE001 - the parent raises it, naming the workbook
            answer = "error " + json.dumps(traceback.format_exc())
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


class WorkerPool:
    """``workers`` threads, each feeding one worker process it starts on its first job."""

    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbook")
        self._local = threading.local()
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def _proc(self) -> subprocess.Popen:
        proc = getattr(self._local, "proc", None)
        if proc is None:
            root = str(Path(__file__).resolve().parents[1])  # the code this process runs
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
            proc = subprocess.Popen([sys.executable, "-m", "warehouse.workbook_worker"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, encoding="utf-8", env=env)
            self._local.proc = proc
            with self._lock:
                self._procs.append(proc)
        return proc

    def _run(self, spec: dict) -> str:
        proc = self._proc()
        proc.stdin.write(json.dumps(spec, ensure_ascii=False) + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline().strip()
        if answer != "ok":
            detail = json.loads(answer[6:]) if answer.startswith("error ") else f"worker ended ({proc.poll()})"
            raise RuntimeError(f"district workbook {spec['xlsx']} failed in a worker process:\n{detail}")
        return spec["xlsx"]

    def submit(self, spec: dict):
        return self._pool.submit(self._run, spec)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for proc in self._procs:
            if proc.stdin:
                proc.stdin.close()
            proc.wait()


if __name__ == "__main__":
    serve()
