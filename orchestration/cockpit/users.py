"""The cockpit's users file: names, roles, accounts and argon2 hashes of the passwords.

A small team without an identity provider signs in with it (`cvm serve --auth users`).
`cvm users add|remove|list` keeps it; nobody edits the hashes by hand. The file is JSON:

    {"users": {"anna": {"role": "sales", "account_managers": ["AM01"], "region": null,
                        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$..."}}}

It holds no password: argon2id (argon2-cffi's defaults) hashes them. It is written whole to a
temporary file and renamed into place, readable by its owner only.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from orchestration.cockpit.access import ROLES, AccessError, Viewer

_hasher = PasswordHasher()
# verified for a name the file does not hold, so that an unknown name takes as long as a
# wrong password and the answer says nothing about who exists
_DUMMY_HASH = _hasher.hash("no such user")


class UsersFileError(ValueError):
    """The users file cannot be read or a change cannot be made; the message names it."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    account_managers: tuple[str, ...]
    region: str | None
    password_hash: str

    def viewer(self) -> Viewer:
        return Viewer(name=self.name, role=self.role, account_managers=self.account_managers,
                      region=self.region)


def read_users(path: Path) -> dict[str, User]:
    """The users of the file; a missing file holds none. A broken file is an error naming
    the file, the line and the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsersFileError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from None
    users = {}
    for name, entry in (data.get("users") or {}).items():
        try:
            user = User(name, entry["role"], tuple(entry.get("account_managers") or ()),
                        entry.get("region"), entry["password_hash"])
            user.viewer()  # the role and its accounts make sense
        except (KeyError, TypeError, AccessError) as exc:
            raise UsersFileError(f"{path}: user {name!r}: {exc}") from None
        users[name] = user
    return users


def _write(path: Path, users: dict[str, User]) -> None:
    data = {"users": {u.name: {"role": u.role, "account_managers": list(u.account_managers),
                               "region": u.region, "password_hash": u.password_hash}
                      for u in sorted(users.values(), key=lambda u: u.name)}}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_user(path: Path, name: str, role: str, password: str,
             account_managers: tuple[str, ...] = (), region: str | None = None) -> User:
    """Add a user, or replace the one of that name (a new password or role)."""
    name = name.strip()
    if not name:
        raise UsersFileError("a user needs a name")
    if role not in ROLES:
        raise UsersFileError(f"role {role!r} is unknown; give one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise UsersFileError("the password is shorter than 8 characters")
    user = User(name, role, tuple(account_managers), region or None, _hasher.hash(password))
    try:
        user.viewer()
    except AccessError as exc:
        raise UsersFileError(str(exc)) from None
    users = read_users(path)
    users[name] = user
    _write(path, users)
    return user


def remove_user(path: Path, name: str) -> None:
    users = read_users(path)
    if name not in users:
        raise UsersFileError(f"{path}: no user {name!r}")
    del users[name]
    _write(path, users)


class UsersFile:
    """The users file as the server reads it: read again when it changed, so that
    `cvm users remove` takes effect on the next request without a restart."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._users: dict[str, User] = {}

    def users(self) -> dict[str, User]:
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._users = read_users(self.path)
                self._stamp = stamp
            return self._users

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise, in the same time."""
        user = self.users().get(name)
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return user
