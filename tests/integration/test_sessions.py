"""Console sessions live in the store: logout, a changed passphrase and the login limit, on a real server."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
import requests
import socketio

from tests.conftest import demo_show
from tests.peers import Peer
from tests.stage_process import HOST_PASSWORD, MODERATOR_PASSWORD, StageProcess
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


def test_a_cookie_replayed_after_logout_is_refused_everywhere(stage):
    host = stage.login("host")
    copied = cookie_of(host)  # what anyone on the venue Wi-Fi could have read off the air
    assert requests.get(f"{stage.url}/api/rehearsal/status", headers={"Cookie": copied}).status_code == 200
    assert 'action="/logout"' in host.get(f"{stage.url}/host").text, "the console offers Log out"
    assert host.post(f"{stage.url}/logout", allow_redirects=False).status_code == 302
    replay = {"Cookie": copied}
    page = requests.get(f"{stage.url}/host", headers=replay, allow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].endswith("/login/host")
    assert requests.get(f"{stage.url}/host/audit.csv", headers=replay).status_code == 403
    assert requests.get(f"{stage.url}/api/rehearsal/status", headers=replay).status_code == 403
    for namespace in ("/host", "/moderation", "/crew"):
        assert "session_ended" in refusal(stage, namespace, copied)
    assert audit_actions(stage) == [("login", "host"), ("logout", "host")]
    assert "/host refused a connection" in stage.log_text()


def test_logout_disconnects_that_sessions_sockets_only(stage, peers):
    leaving = stage.login("host")
    cookie = cookie_of(leaving)
    host = Peer(stage.url, "/host", headers={"Cookie": cookie})
    moderation = Peer(stage.url, "/moderation", headers={"Cookie": cookie})
    staying = peers.host()  # another host console, its own login
    try:
        host.wait_for("cues")
        moderation.wait_for("queue")
        leaving.post(f"{stage.url}/logout")
        host.wait_for("disconnect")
        moderation.wait_for("disconnect")
        assert host.drain("session_ended")[0]["message"], "told why before the disconnect"
        assert staying.call("go")["ok"], "another console's session is untouched"
    finally:
        host.close()
        moderation.close()


def test_a_socket_whose_session_ended_elsewhere_can_do_nothing_more(stage, peers):
    host = peers.host()
    host.wait_for("cues")
    # Another process sharing the store (scale-out) revoked it: this process's sockets never heard.
    with sqlite3.connect(stage.data_dir / "stage.db", timeout=10) as db:
        db.execute("UPDATE console_sessions SET revoked_at = 1, revoked_why = 'logout'")
    ack = host.call("go")
    assert ack["ok"] is False and ack["error"]["code"] == "session_ended", ack
    host.wait_for("disconnect")
    assert requests.get(f"{stage.url}/healthz").json()["cue"] == "1", "the GO did not fire"


def test_an_idle_socket_whose_session_ended_elsewhere_is_disconnected(stage, peers):
    moderation = peers.moderation()
    moderation.wait_for("queue")  # a moderator console that only listens: it would keep seeing the queue
    with sqlite3.connect(stage.data_dir / "stage.db", timeout=10) as db:
        db.execute("UPDATE console_sessions SET revoked_at = 1, revoked_why = 'logout'")
    moderation.wait_for("disconnect", timeout=30)  # within the server's sweep, without sending anything
    assert moderation.drain("session_ended"), "told why"


@pytest.mark.parametrize("role", ["host", "crew"])
def test_successful_logins_never_count_toward_the_limit(stage, role):
    sessions = [stage.login(role) for _ in range(15)]  # login() asserts each answer is the redirect
    assert all(s.get(f"{stage.url}/{role}").status_code == 200 for s in sessions)


def test_only_failures_lock_out_and_only_that_address_and_role(stage):
    def attempt(role: str, passphrase: str) -> int:
        return requests.post(f"{stage.url}/login/{role}", data={"passphrase": passphrase},
                             allow_redirects=False).status_code

    assert [attempt("host", f"guess{i}") for i in range(9)] == [401] * 9
    assert attempt("host", HOST_PASSWORD) == 302  # a success clears this address's failures for host
    assert [attempt("host", f"again{i}") for i in range(10)] == [401] * 10
    # Locked out: even the right passphrase is refused, so a guesser cannot confirm a guess.
    assert attempt("host", "another guess") == 429 and attempt("host", HOST_PASSWORD) == 429
    assert stage.login("crew"), "the lockout is per role: the crew still logs in from this address"
    assert stage.log_text().count("login as host from 127.0.0.1 locked out") == 1, "one line per lockout"


def test_refused_console_connects_are_logged_a_few_lines_a_minute_per_address(stage):
    for _ in range(30):  # a script reconnecting without a login, in a loop
        assert "not_logged_in" in refusal(stage, "/host", "")
    lines = stage.log_text().count("/host refused a connection from 127.0.0.1")
    assert 1 <= lines <= 10, f"{lines} log lines for 30 refused connects"


def _greenlets(stage: StageProcess, host: requests.Session) -> int:
    return host.get(f"{stage.url}/healthz").json()["greenlets"]


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
