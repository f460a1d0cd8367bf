"""Accounts, roles and password hashes (argon2) in `<warehouse>/portal/users.sqlite`; the
session secret beside it (docs/portal.md). Nothing of this ever lives in the repository."""

import os
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLE_PATTERN = re.compile(r"^(statistician|admin|district:\d{6})$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps an unknown user name as slow as a wrong password."""
    return _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    pass


@cache
def _district_codes() -> frozenset[str]:
    """The codes a district account may have: the current districts and counties (a district
    account of the city code or of a retired district would see no data and could upload)."""
    from warehouse.extracts import current_districts

    return frozenset(code for code, _ in current_districts())


@dataclass(frozen=True)
class User:
    username: str
    role: str
    disabled: bool

    @property
    def district(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("district:") else None


def portal_dir(warehouse: Path) -> Path:
    path = Path(warehouse) / "portal"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def session_secret(warehouse: Path) -> str:
    """The cookie-signing secret, made on first start and readable by the owner only."""
    path = portal_dir(warehouse) / "session_secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


class Accounts:
    def __init__(self, warehouse: Path) -> None:
        self.path = portal_dir(warehouse) / "users.sqlite"
        with closing(self._connect()) as con, con:
            con.execute("create table if not exists users (username text primary key, role text not null, "
                        "password_hash text not null, disabled integer not null default 0, "
                        "created_at text not null, changed_at text not null)")
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    @staticmethod
    def _check(username: str, role: str | None, password: str | None) -> None:
        if not USERNAME_PATTERN.match(username):
            raise AccountError("user name: 1-64 letters, digits or _ . @ -")
        if role is not None and not ROLE_PATTERN.match(role):
            raise AccountError("role must be statistician, admin or district:<6-digit code>")
        if role is not None and role.startswith("district:") and role[len("district:"):] not in _district_codes():
            raise AccountError(f"{role}: not a current district or county of Hangzhou "
                               f"(one of {', '.join(sorted(_district_codes()))})")
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")

    def check_new(self, username: str, role: str) -> None:
        """Why ``add`` would refuse this name and role, before anyone is asked for a password."""
        self._check(username, role, None)
        if self.get(username) is not None:
            raise AccountError(f"user {username} exists already")

    def add(self, username: str, role: str, password: str) -> None:
        self._check(username, role, password)
        now = _now()
        try:
            with closing(self._connect()) as con, con:
                con.execute("insert into users values (?, ?, ?, 0, ?, ?)",
                            (username, role, _hasher.hash(password), now, now))
        except sqlite3.IntegrityError:
            raise AccountError(f"user {username} exists already") from None

    def _update(self, username: str, sql: str, values: tuple) -> None:
        with closing(self._connect()) as con, con:
            cursor = con.execute(f"update users set {sql}, changed_at = ? where username = ?", (*values, _now(), username))
            if cursor.rowcount == 0:
                raise AccountError(f"no user {username}")

    def disable(self, username: str) -> None:
        self._update(username, "disabled = 1", ())

    def reset(self, username: str, password: str) -> None:
        """A new password; also enables a disabled account."""
        self._check(username, None, password)
        self._update(username, "password_hash = ?, disabled = 0", (_hasher.hash(password),))

    def get(self, username: str) -> User | None:
        with closing(self._connect()) as con:
            row = con.execute("select username, role, disabled from users where username = ?", (username,)).fetchone()
        return User(row[0], row[1], bool(row[2])) if row else None

    def list(self) -> list[User]:
        with closing(self._connect()) as con:
            rows = con.execute("select username, role, disabled from users order by username").fetchall()
        return [User(u, r, bool(d)) for u, r, d in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password is right and the account enabled; None otherwise."""
        with closing(self._connect()) as con:
            row = con.execute("select username, role, disabled, password_hash from users where username = ?",
                              (username,)).fetchone()
        try:
            _hasher.verify(row[3] if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row[2]:
            return None
        return User(row[0], row[1], False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
