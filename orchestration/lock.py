"""One run at a time per warehouse: an exclusive flock on <warehouse>/.run.lock, held by the
process that runs the job (the CLI, or the Dagster run worker), released when it exits even if
it crashes. A second run fails at once with the holder's identity."""

import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path


class WarehouseBusy(RuntimeError):
    pass


def describe_holder(text: str) -> str:
    """'run R (pid P on HOST, started T)' from the lock file's JSON (as written by acquire)."""
    try:
        info = json.loads(text)
    except ValueError:
        return f"another run ({text or 'not identified yet'})"
    return (f"run {info.get('run_id')} (pid {info.get('pid')} on {info.get('host')}, "
            f"started {info.get('started')})")


class WarehouseLock:
    def __init__(self, warehouse_dir: Path, run_id: str):
        self.path = Path(warehouse_dir) / ".run.lock"
        self.run_id = run_id
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
            os.close(fd)
            raise WarehouseBusy(f"warehouse {self.path.parent} is busy (try again when that run has finished): "
                                f"it is held by {describe_holder(holder)}") from None
        info = {"run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(),
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "WarehouseLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire_and_release(self) -> None:
        """Probe: raise WarehouseBusy if another process holds the lock now."""
        self.acquire()
        self.release()
