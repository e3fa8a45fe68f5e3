"""Web users and their roles (viewer < editor < admin), password checks, and the login-attempt log.

Passwords are hashed with werkzeug's `generate_password_hash` (scrypt) and never stored, logged or
returned in clear. An unknown user and a wrong password look the same to the caller (None), and take
about the same time: an unknown user is checked against a dummy hash.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from monitor.core import timestamps
from monitor.core.errors import StoreError, UserError
from monitor.store.database import Store

ROLES = ("viewer", "editor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
ROLE_WORDS = {"viewer": "leser", "editor": "redaktør", "admin": "administrator"}
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# Login attempts: at most this many failures in WINDOW, per (remote address, username) and per remote address.
# Not per username alone: then anyone, from anywhere, could lock an editor out by guessing wrong five times.
MAX_FAILURES_PER_USER = 5  # per (address, username), since that pair's last success
MAX_FAILURES_PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)
KEEP_ATTEMPTS = timedelta(days=30)


@dataclass(frozen=True)
class User:
    """A web user, without the password hash (`session_key` only says which hash and session version are current)."""

    id: int
    username: str
    role: str
    created_at: str
    session_key: str

    def has_role(self, role: str) -> bool:
        """Whether this user's role is `role` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def role_word(self) -> str:
        """The role in bokmål."""
        return ROLE_WORDS[self.role]


def normalise_username(name: str) -> str:
    """Usernames are compared in lower case, without surrounding spaces."""
    return name.strip().lower()


def check_new_password(password: str) -> None:
    """Refuse a password that is too short or too long (the message never contains the password)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"passordet må ha minst {MIN_PASSWORD_LENGTH} tegn")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"passordet kan ha høyst {MAX_PASSWORD_LENGTH} tegn")


@cache
def _dummy_hash() -> str:
    return generate_password_hash("ingen-bruker-har-dette-passordet")


def _session_key(password_hash: str, session_version: int) -> str:
    # Changes when the password (or the account, removed and added again) or the session version changes
    # (logging out, a new password), ending every session signed with the old key.
    return hashlib.sha256(f"{password_hash}:{session_version}".encode("utf-8")).hexdigest()[:16]


class Users:
    """The users and login_attempts tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, username: str, password: str, role: str, now: datetime) -> User:
        """Create a user; UserError for a bad name, role or password, or a name that is taken."""
        name = normalise_username(username)
        if not USERNAME_PATTERN.fullmatch(name):
            raise UserError(
                f"ugyldig brukernavn {username!r}: 1–64 tegn, små bokstaver a–z, tall og . _ @ -, "
                "og det første tegnet er en bokstav eller et tall"
            )
        if role not in ROLE_RANK:
            raise UserError(f"ukjent rolle {role!r}; bruk {', '.join(ROLES)}")
        check_new_password(password)
        password_hash = generate_password_hash(password)
        try:
            with self.store.transaction() as conn:
                if conn.execute("SELECT 1 FROM users WHERE username = ?", [name]).fetchone():
                    raise UserError(f"brukeren «{name}» finnes fra før")
                conn.execute(
                    "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                    [name, password_hash, role, timestamps.encode(now)],
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke lagre brukeren: {exc}") from exc
        user = self.get(name)
        assert user is not None
        return user

    def remove(self, username: str) -> None:
        """Remove a user (their sessions end at their next request); UserError when there is none."""
        name = normalise_username(username)
        try:
            with self.store.transaction() as conn:
                deleted = conn.execute("DELETE FROM users WHERE username = ?", [name]).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke fjerne brukeren: {exc}") from exc
        if not deleted:
            raise UserError(f"ingen bruker heter «{name}»")

    def set_password(self, username: str, password: str) -> None:
        """Give a user a new password and end every session they have; UserError for a bad password or no such user."""
        name = normalise_username(username)
        check_new_password(password)
        password_hash = generate_password_hash(password)
        try:
            with self.store.transaction() as conn:
                changed = conn.execute(
                    "UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE username = ?",
                    [password_hash, name],
                ).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke lagre passordet: {exc}") from exc
        if not changed:
            raise UserError(f"ingen bruker heter «{name}»")

    def end_sessions(self, user_id: int) -> None:
        """End every session of this user, on every device and every copy of the cookie (logging out)."""
        try:
            with self.store.transaction() as conn:
                conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?", [user_id])
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke avslutte innloggingene: {exc}") from exc

    def all(self) -> list[User]:
        """Every user, by name."""
        return self._select("ORDER BY username", [])

    def get(self, username: str) -> User | None:
        """The user with this name, or None."""
        found = self._select("WHERE username = ?", [normalise_username(username)])
        return found[0] if found else None

    def by_id(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        found = self._select("WHERE id = ?", [user_id])
        return found[0] if found else None

    def _select(self, where: str, params: list[object]) -> list[User]:
        rows = self.store.conn.execute(
            f"SELECT id, username, role, created_at, password_hash, session_version FROM users {where}", params
        ).fetchall()
        return [User(i, name, role, created, _session_key(hashed, version)) for i, name, role, created, hashed, version in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password is right; None for an unknown user or a wrong password alike."""
        name = normalise_username(username)
        row = self.store.conn.execute("SELECT password_hash FROM users WHERE username = ?", [name]).fetchone()
        if row is None or len(password) > MAX_PASSWORD_LENGTH:
            check_password_hash(_dummy_hash(), password[:MAX_PASSWORD_LENGTH])  # the same work, so timing tells nothing
            return None
        if not check_password_hash(row[0], password):
            return None
        return self.get(name)

    # -- login attempts ---------------------------------------------------------------------------

    def begin_attempt(self, username: str, remote_addr: str, now: datetime) -> int | None:
        """Count and record one login attempt in one write transaction, before the password is checked.

        None when too many recent failures block it (nothing is recorded then); else the id of the
        attempt, recorded as failed until `attempt_succeeded` says otherwise. Because counting and
        recording are one BEGIN IMMEDIATE transaction, parallel guesses queue up: no more than the limit
        is ever checked, however many arrive at once. Attempts older than KEEP_ATTEMPTS are forgotten.
        """
        name = normalise_username(username)[:200]
        address = remote_addr[:100]
        try:
            with self.store.transaction() as conn:
                if self._blocked(conn, name, address, now):
                    return None
                cursor = conn.execute(
                    "INSERT INTO login_attempts (username, remote_addr, at, succeeded) VALUES (?, ?, ?, 0)",
                    [name, address, timestamps.encode(now)],
                )
                conn.execute("DELETE FROM login_attempts WHERE at < ?", [timestamps.encode(now - KEEP_ATTEMPTS)])
                attempt = cursor.lastrowid
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke logge innloggingsforsøket: {exc}") from exc
        assert attempt is not None
        return int(attempt)

    def attempt_succeeded(self, attempt: int) -> None:
        """Mark an attempt from `begin_attempt` as a successful login."""
        try:
            with self.store.transaction() as conn:
                conn.execute("UPDATE login_attempts SET succeeded = 1 WHERE id = ?", [attempt])
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke logge innloggingsforsøket: {exc}") from exc

    def record_attempt(self, username: str, remote_addr: str, now: datetime, *, succeeded: bool) -> None:
        """Log one finished login attempt (and forget attempts older than KEEP_ATTEMPTS)."""
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO login_attempts (username, remote_addr, at, succeeded) VALUES (?, ?, ?, ?)",
                    [normalise_username(username)[:200], remote_addr[:100], timestamps.encode(now), int(succeeded)],
                )
                conn.execute("DELETE FROM login_attempts WHERE at < ?", [timestamps.encode(now - KEEP_ATTEMPTS)])
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: kunne ikke logge innloggingsforsøket: {exc}") from exc

    def locked_out(self, username: str, remote_addr: str, now: datetime) -> bool:
        """Whether too many recent failures block logging in as `username` from `remote_addr`.

        Per (address, username), failures count since that pair's last successful login within WINDOW;
        per address, every failure within WINDOW counts (a success with another account resets nothing).
        Failures from other addresses never block: nobody can lock someone else out from elsewhere.
        """
        return self._blocked(self.store.conn, normalise_username(username)[:200], remote_addr[:100], now)

    @staticmethod
    def _blocked(conn: sqlite3.Connection, name: str, address: str, now: datetime) -> bool:
        since = timestamps.encode(now - WINDOW)
        by_pair = conn.execute(
            "SELECT COUNT(*) FROM login_attempts WHERE remote_addr = ? AND username = ? AND at >= ? AND succeeded = 0 "
            "AND id > COALESCE((SELECT MAX(id) FROM login_attempts WHERE remote_addr = ? AND username = ? AND at >= ? "
            "AND succeeded = 1), 0)",
            [address, name, since, address, name, since],
        ).fetchone()[0]
        by_address = conn.execute(
            "SELECT COUNT(*) FROM login_attempts WHERE remote_addr = ? AND at >= ? AND succeeded = 0",
            [address, since],
        ).fetchone()[0]
        return int(by_pair) >= MAX_FAILURES_PER_USER or int(by_address) >= MAX_FAILURES_PER_ADDRESS
