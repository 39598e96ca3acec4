"""Console sessions live in the store, on a real server: for what needs one (logins whose bodies arrive
late over TCP, and restarts). The rest of the sessions' tests run in process, in ``tests/app/test_sessions.py``."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
import requests
import socketio

from tests.conftest import demo_show
from tests.peers import Peer
from tests.stage_process import MODERATOR_PASSWORD, StageProcess
from tests.waiting import wait_until


def cookie_of(session: requests.Session) -> str:
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def refusal(stage: StageProcess, namespace: str, cookie: str) -> str:
    """Why the namespace refused this cookie (the connect_error data), failing if it connected."""
    with pytest.raises(socketio.exceptions.ConnectionError) as info:
        Peer(stage.url, namespace, headers={"Cookie": cookie}).close()
    return str(info.value)


def audit_actions(stage: StageProcess) -> list[tuple[str, str]]:
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        return db.execute("SELECT action, subject FROM audit WHERE action IN "
                          "('login', 'logout', 'sessions_revoked') ORDER BY seq").fetchall()


def _greenlets(stage: StageProcess, host: requests.Session) -> int:
    return host.get(f"{stage.url}/healthz").json()["greenlets"]


# Needs a real server: raw TCP connections whose bodies arrive late, so many logins wait in the server at once.
def test_logins_whose_bodies_come_late_cannot_pass_the_lockout_together(stage):
    # Each POST's headers first, its body only once every one of them is waiting in the server: a check
    # made before the body is read (a yield) would let all of them be compared against the passphrase.
    host, attempts = stage.login("host"), 15
    before = _greenlets(stage, host)
    body = b"passphrase=wrong-guess"
    head = (f"POST /login/moderator HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    conns = [socket.create_connection(("127.0.0.1", stage.port), timeout=20) for _ in range(attempts)]
    try:
        for conn in conns:
            conn.sendall(head)
        wait_until(lambda: _greenlets(stage, host) >= before + attempts, what="every POST to wait in the server",
                   every=0.05)
        for conn in conns:
            conn.sendall(body)
        statuses = []
        for conn in conns:
            answer = b""
            while b"\r\n" not in answer and (chunk := conn.recv(4096)):
                answer += chunk
            statuses.append(int(answer.split()[1]))
    finally:
        for conn in conns:
            conn.close()
    compared = [s for s in statuses if s in (401, 403)]
    assert len(compared) <= 10, f"{len(compared)} guesses were compared past a limit of 10: {statuses}"
    assert statuses.count(429) == attempts - len(compared), statuses
    locked = requests.post(f"{stage.url}/login/moderator", data={"passphrase": MODERATOR_PASSWORD},
                           allow_redirects=False)
    assert locked.status_code == 429, "locked out: even the right passphrase is refused"


# Needs a real server: it stops `stage serve` and starts it again with another passphrase (a restart).
def test_a_cookie_from_a_run_with_another_passphrase_is_refused_after_restart(tmp_path: Path):
    show, data = demo_show(tmp_path), tmp_path / "data"
    first = StageProcess(show, data).start()
    try:
        cookie = cookie_of(first.login("host"))
    finally:
        first.stop()
    second = StageProcess(show, data, passwords=False, extra_args=("--host-password", "a-new-host-pass")).start()
    try:
        page = requests.get(f"{second.url}/host", headers={"Cookie": cookie}, allow_redirects=False)
        assert page.status_code == 302
        assert "session_ended" in refusal(second, "/host", cookie)
        assert ("sessions_revoked", "host") in audit_actions(second)
        fresh = requests.Session()
        assert fresh.post(f"{second.url}/login/host", data={"passphrase": "a-new-host-pass"},
                          allow_redirects=False).status_code == 302
    finally:
        second.stop()


# Needs a real server: it stops `stage serve` and starts it again over the same data (a restart).
def test_a_session_survives_a_restart_with_the_same_passphrase(tmp_path: Path):
    show, data = demo_show(tmp_path), tmp_path / "data"
    first = StageProcess(show, data).start()
    try:
        host, crew = cookie_of(first.login("host")), cookie_of(first.login("crew"))
    finally:
        first.stop()
    second = StageProcess(show, data).start()
    peers: list[Peer] = []
    try:
        assert requests.get(f"{second.url}/host", headers={"Cookie": host}).status_code == 200
        peers += [Peer(second.url, "/host", headers={"Cookie": host}), Peer(second.url, "/crew", headers={"Cookie": crew})]
        assert peers[0].wait_for("cues")["standby"] == "1" and peers[1].wait_for("cues")
        assert ("sessions_revoked", "host") not in audit_actions(second)
    finally:
        second.stop()
        for peer in peers:
            peer.close()
