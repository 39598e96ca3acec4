"""Console sessions (host, moderator, crew): one row in the store per login. No Flask, no Socket.IO.

The signed cookie carries only a random session id. A cookie alone proves nothing: the row must exist,
be neither revoked nor expired, and carry the fingerprint of the role's passphrase as it is now. So a
cookie replayed after logout, after its lifetime or after the passphrase changed is refused, by every
process that shares the store (the store, not one process's memory, is the truth: scale-out shares it).

The table keeps the sha256 of the session id, never the id itself, and an HMAC of the passphrase, never
the passphrase: a copy of the database logs nobody in. Logins, logouts and revocations are audited.

Why not a library: Flask's session is a signed client-side cookie by design, so no Flask release
revokes one. Flask-Session (pallets-eco, 0.8) moves the whole session server-side, but into its own
backends (Redis, SQLAlchemy, cachelib), outside this store and its one migration history, for every
phone too, and has no "end every session of this role" (asked for in flask-session2 issue #21, still
open). The cookie's signing stays Flask's (itsdangerous); only what the cookie means moved here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from stage.records.store import Store

log = logging.getLogger(__name__)

LIFETIME = 24 * 3600  # seconds from login: a night with its get-in and get-out, then log in again


@dataclass(frozen=True)
class ConsoleSession:
    key: str  # sha256 of the id in the cookie; also names the session's Socket.IO room
    role: str

    @property
    def actor(self) -> str:
        """How the audit log names this login: role and a prefix of the key (never the cookie's id)."""
        return f"{self.role}:{self.key[:8]}"


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ConsoleSessions:
    def __init__(self, store: Store, secret_key: bytes, passphrase: Callable[[str], str],
                 clock: Callable[[], float] = time.time, lifetime: float = LIFETIME) -> None:
        self.store = store
        self._secret = secret_key
        self._passphrase = passphrase
        self._clock = clock
        self.lifetime = lifetime
        self._fingerprints: dict[str, str] = {}
        # Told the keys of sessions that logout ended, after the commit: realtime disconnects their sockets.
        self.on_revoked: Callable[[list[str]], None] = lambda keys: None

    def fingerprint(self, role: str) -> str:
        """An HMAC of the role's passphrase: it changes when the passphrase does, and reveals nothing of it.
        Computed once a role: a passphrase is fixed for the life of the process, and consoles check their
        session on every event."""
        if role not in self._fingerprints:
            message = f"console-session\0{role}\0{self._passphrase(role)}".encode()
            self._fingerprints[role] = hmac.new(self._secret, message, "sha256").hexdigest()
        return self._fingerprints[role]

    def open(self, role: str, address: str) -> str:
        """A new session for a login that just passed; returns the id to put in the cookie."""
        session_id = secrets.token_urlsafe(32)
        opened = ConsoleSession(_key(session_id), role)
        now = self._clock()
        with self.store.transaction() as db:
            db.execute("INSERT INTO console_sessions (key, role, fingerprint, address, created_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (opened.key, role, self.fingerprint(role), address, now, now + self.lifetime))
            Store.audit(db, opened.actor, "login", role, address=address)
        log.info("%s logged in from %s (session %s)", role, address, opened.actor)
        return session_id

    def find(self, session_id: str) -> ConsoleSession | None:
        """The live session this cookie's id names, or None (unknown, revoked, expired, passphrase changed)."""
        return self.by_key(_key(session_id))

    def by_key(self, key: str) -> ConsoleSession | None:
        rows = self.store.query("SELECT role, fingerprint FROM console_sessions "
                                "WHERE key = ? AND revoked_at IS NULL AND expires_at > ?", (key, self._clock()))
        if not rows or not hmac.compare_digest(rows[0]["fingerprint"], self.fingerprint(rows[0]["role"])):
            return None
        return ConsoleSession(key, rows[0]["role"])

    def close(self, session_id: str, address: str) -> ConsoleSession | None:
        """Logout: revoke the session for good, audit it, and have its connected sockets disconnected."""
        key = _key(session_id)
        with self.store.transaction() as db:  # read and revoke in one transaction: two logouts audit once
            row = db.execute("SELECT role FROM console_sessions WHERE key = ? AND revoked_at IS NULL",
                             (key,)).fetchone()
            if row is None:
                return None
            closed = ConsoleSession(key, row["role"])
            db.execute("UPDATE console_sessions SET revoked_at = ?, revoked_why = 'logout' WHERE key = ?",
                       (self._clock(), key))
            Store.audit(db, closed.actor, "logout", closed.role, address=address)
        log.info("%s logged out from %s (session %s)", closed.role, address, closed.actor)
        self.on_revoked([key])
        return closed

    def revoke_changed_passphrases(self, roles: tuple[str, ...]) -> dict[str, int]:
        """At start: end every session whose role's passphrase changed since its login (audited per role),
        and forget sessions past their lifetime (the audit log keeps their logins)."""
        now = self._clock()
        revoked: dict[str, int] = {}
        with self.store.transaction() as db:
            db.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))
            for role in roles:
                count = db.execute("UPDATE console_sessions SET revoked_at = ?, revoked_why = 'passphrase_changed' "
                                   "WHERE role = ? AND revoked_at IS NULL AND fingerprint != ?",
                                   (now, role, self.fingerprint(role))).rowcount
                if count:
                    revoked[role] = count
                    Store.audit(db, "stage", "sessions_revoked", role, reason="passphrase_changed", sessions=count)
        for role, count in revoked.items():
            log.warning("the %s passphrase changed: %d %s session(s) revoked", role, count, role)
        return revoked
