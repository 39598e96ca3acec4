"""Console sessions in the store: lifetime, logout, a changed passphrase; nothing secret is stored."""

from __future__ import annotations

import hashlib
from pathlib import Path

from stage.records import audit_log
from stage.records.sessions import ConsoleSessions
from stage.records.sqlite_store import SqliteStore
from stage.records.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def sessions(store: Store, passphrases: dict[str, str], clock: Clock) -> ConsoleSessions:
    return ConsoleSessions(store, b"k" * 32, lambda role: passphrases.get(role, ""), clock=clock, lifetime=3600)


def test_a_session_ends_after_its_lifetime(store) -> None:
    clock = Clock()
    board = sessions(store, {"host": "pass"}, clock)
    token = board.open("host", "10.0.0.5")
    assert board.find(token).role == "host"
    clock.now += 3599
    assert board.find(token) is not None
    clock.now += 2
    assert board.find(token) is None


def test_logout_revokes_audits_and_reports_the_key(store) -> None:
    board = sessions(store, {"crew": "pass"}, Clock())
    reported: list[list[str]] = []
    board.on_revoked = reported.append
    token = board.open("crew", "10.0.0.5")
    other = board.open("crew", "10.0.0.6")
    closed = board.close(token, "10.0.0.5")
    assert closed is not None and reported == [[closed.key]]
    assert board.find(token) is None and board.find(other) is not None
    assert board.close(token, "10.0.0.5") is None and len(reported) == 1  # a second logout changes nothing
    actions = [(e["action"], e["subject"]) for e in audit_log.entries(store)]
    assert actions[:3] == [("logout", "crew"), ("login", "crew"), ("login", "crew")]


def test_a_changed_passphrase_revokes_that_roles_sessions_only(store) -> None:
    passphrases = {"host": "old", "crew": "same"}
    clock = Clock()
    host, crew = (before := sessions(store, passphrases, clock)).open("host", "a"), before.open("crew", "b")
    passphrases["host"] = "new"  # a passphrase changes with a restart: a new process, a new board
    board = sessions(store, passphrases, clock)
    assert board.find(host) is None  # refused at once, even before the revocation sweep
    assert board.revoke_changed_passphrases(("host", "moderator", "crew")) == {"host": 1}
    passphrases["host"] = "old"
    assert sessions(store, passphrases, clock).find(host) is None, "revoked for good, not only while it differs"
    assert board.find(crew) is not None
    entry = audit_log.entries(store, "sessions_revoked")[0]
    assert entry["subject"] == "host" and entry["detail"] == {"reason": "passphrase_changed", "sessions": 1}


def test_the_sqlite_store_keeps_neither_the_session_id_nor_the_passphrase(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "stage.db")
    board = sessions(store, {"host": "correct-horse"}, Clock())
    token = board.open("host", "a")
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("stage.db"))
    assert hashlib.sha256(token.encode()).hexdigest().encode() in raw  # the row is there, keyed by the hash
    assert token.encode() not in raw and b"correct-horse" not in raw
