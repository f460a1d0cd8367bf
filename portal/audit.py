"""The append-only audit log: one JSON line per login, download, upload and refusal."""

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from portal.accounts import portal_dir


class AuditLog:
    def __init__(self, warehouse: Path) -> None:
        self.path = portal_dir(warehouse) / "audit.jsonl"
        self._lock = threading.Lock()

    def write(self, *, user: str | None, action: str, target: str, outcome: str, ip: str | None, **detail) -> None:
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "user": user,
                 "action": action, "target": target, "outcome": outcome, "ip": ip, **detail}
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self._lock:
            # O_APPEND: each line is added at the end, never over what is there.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
