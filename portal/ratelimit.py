"""Login rate limiting, per account and per client address: after a few failures each further
attempt must wait, the wait doubling with every failure (capped), even with the right password."""

import threading
import time
from dataclasses import dataclass

FREE_FAILURES = 3
FIRST_WAIT_SECONDS = 2.0
MAX_WAIT_SECONDS = 900.0
FORGET_AFTER_SECONDS = 3600.0


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginLimiter:
    def __init__(self) -> None:
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _wait(f: _Failures) -> float:
        if f.count < FREE_FAILURES:
            return 0.0
        return min(FIRST_WAIT_SECONDS * 2 ** (f.count - FREE_FAILURES), MAX_WAIT_SECONDS)

    def retry_after(self, keys: list[str], now: float | None = None) -> float:
        """Seconds before any of these keys (account, address) may try again; 0 when allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = []
            for key in keys:
                f = self._failures.get(key)
                if f is None:
                    continue
                if now - f.last > FORGET_AFTER_SECONDS:
                    del self._failures[key]
                    continue
                waits.append(f.last + self._wait(f) - now)
            return max([0.0, *waits])

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                f = self._failures.setdefault(key, _Failures())
                f.count, f.last = f.count + 1, now

    def succeeded(self, account_key: str) -> None:
        with self._lock:
            self._failures.pop(account_key, None)
