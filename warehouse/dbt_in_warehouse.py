"""dbt's command line, started in the directory HZCARBON_DBT_WORKDIR names (the warehouse).

The orchestration runs ``python warehouse/dbt_in_warehouse.py <dbt arguments>`` with
HZCARBON_WAREHOUSE=".": the profile's DuckDB path and the sources' Parquet locations are then
the same text for every warehouse, so dbt's partial parse (``python -m warehouse.dbt_plan
prepare`` leaves one beside the manifest, once per code version) is valid in a new warehouse
too, instead of a full parse of the project in every first build (docs/design.md, "dbt").
dagster-dbt starts dbt in the project folder and has no setting for another one.

A warm dbt (``warm_dbt``, used by ``hzcarbon run``): starting Python and importing dbt take ~3 s
of one core before dbt does anything. ``hzcarbon run`` starts a process that imports dbt while
the run imports Dagster and ingests, then waits on a Unix socket (HZCARBON_DBT_WARM_SOCKET). When
dagster-dbt later starts this script, it hands the warm process its arguments, environment and
standard streams (the file descriptors themselves, so dbt writes straight into dagster-dbt's
pipe), forwards Ctrl-C / SIGTERM to it, and exits with its exit code. dbt runs exactly as it
would have here; without the socket (or if the warm process is gone) it runs here as before.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator

WARM_SOCKET = "HZCARBON_DBT_WARM_SOCKET"


def run_dbt(argv: list[str]) -> int:
    os.chdir(os.environ["HZCARBON_DBT_WORKDIR"])
    from dbt.cli.main import cli

    try:
        cli.main(args=argv, prog_name="dbt")  # click exits through SystemExit
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def _hand_over(path: str) -> int | None:
    """dbt run by the warm process behind `path`; its exit code, or None if there is none."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        return None
    env = {k: v for k, v in os.environ.items() if k != WARM_SOCKET}
    request = json.dumps({"argv": sys.argv[1:], "env": env, "cwd": os.getcwd()}).encode() + b"\n"
    socket.send_fds(conn, [request], [0, 1, 2])
    reply = conn.makefile("rb")
    started = reply.readline()
    if not started.strip():  # the warm process died before starting dbt
        return None
    worker = int(started)  # from here on dbt's outcome is ours
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda s, _f: os.kill(worker, s))
    code = reply.readline()
    return int(code) if code.strip() else 1  # the warm process died without an exit code


def _serve_once(listening_fd: int) -> int:
    """Import dbt, then run the one request (a client connecting meanwhile waits in the backlog)."""
    parent = os.getppid()
    server = socket.socket(fileno=listening_fd)
    import dbt.adapters.duckdb  # noqa: F401 - what dbt would import first in a build
    import dbt.cli.main  # noqa: F401

    server.settimeout(1.0)
    while True:
        try:
            conn, _ = server.accept()
            break
        except TimeoutError:
            if os.getppid() != parent:  # the run is gone without asking
                return 0
    conn.settimeout(None)
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while not data.endswith(b"\n"):
        data += conn.recv(1 << 20)
    request = json.loads(data)
    for fd, target in zip(fds, (0, 1, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    conn.sendall(f"{os.getpid()}\n".encode())
    try:
        code = run_dbt(request["argv"])
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(f"{code}\n".encode())
    return code


@contextlib.contextmanager
def warm_dbt() -> Iterator[subprocess.Popen]:
    """A warm dbt process for the next dbt command of this process (HZCARBON_DBT_WARM_SOCKET set
    meanwhile); stopped on exit if no dbt command used it."""
    folder = tempfile.mkdtemp(prefix="hzcarbon-dbt-")  # short: a socket path has ~100 bytes
    path = os.path.join(folder, "socket")
    # Bound and listening before the process starts: a dbt command started at once is queued,
    # and one started after the process died is refused (and runs cold).
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        proc = subprocess.Popen([sys.executable, __file__, "--warm", str(server.fileno())],
                                pass_fds=[server.fileno()], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    previous = os.environ.get(WARM_SOCKET)
    os.environ[WARM_SOCKET] = path
    try:
        yield proc
    finally:
        if previous is None:
            os.environ.pop(WARM_SOCKET, None)
        else:
            os.environ[WARM_SOCKET] = previous
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.unlink(path)
        os.rmdir(folder)


if __name__ == "__main__":
    # This file's folder comes first on sys.path when run as a script: its modules must not
    # shadow what dbt imports.
    sys.path.pop(0)
    if sys.argv[1:2] == ["--warm"]:
        sys.exit(_serve_once(int(sys.argv[2])))
    warm = os.environ.get(WARM_SOCKET)
    handed = _hand_over(warm) if warm else None
    sys.exit(run_dbt(sys.argv[1:]) if handed is None else handed)
