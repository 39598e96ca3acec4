"""Console sessions live in the store, in process: logout, a session ended elsewhere, the login limit.

Moved from ``tests/integration/test_sessions.py``; what needs a real server stays there (logins whose
bodies arrive late over TCP, and restarts). Tests that count log lines use an address of their own:
the log throttle (``stage/limiter.py``'s ``log_sometimes``) is process-wide, as logging is, so another
in-process test at the same address would count toward it.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import gevent
import pytest
from flask import Flask
from flask.testing import FlaskClient

from stage.server import start_serving
from tests.in_process import PASSPHRASES, Console, client_at, logged_in
from tests.waiting import wait_until

ADDRESSES = (f"192.0.2.{n}" for n in itertools.count(1))  # TEST-NET-1, one per test (see the docstring)


def logged(caplog, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    return [tuple(row) for row in app.extensions["stage.store"].query(
        "SELECT action, subject FROM audit WHERE action IN ('login', 'logout', 'sessions_revoked') ORDER BY seq")]


def replaying(app: Flask, cookie: str, address: str = "127.0.0.1") -> FlaskClient:
    """A client of its own that sends only ``cookie`` (a copy of another console's session cookie)."""
    client = client_at(app, address)
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return client


def revoke_elsewhere(app: Flask) -> None:
    """End every console session in the store the way another process sharing it would (scale-out):
    a connection of its own, so this app's sockets never hear of it."""
    with closing(sqlite3.connect(app.extensions["stage.night"].settings.data_dir / "stage.db", timeout=10)) as db:
        with db:
            db.execute("UPDATE console_sessions SET revoked_at = 1, revoked_why = 'logout'")


def received(console: Console, name: str) -> list[Any]:
    """Every ``name`` event ``console`` received, also after the server disconnected it (``Console.events``
    stops collecting then; the test client still holds what came before the disconnect)."""
    pending = console.sio.queue if not console.connected else []
    return console.events(name) + [e["args"][0] if e["args"] else None for e in pending if e["name"] == name]


def disconnected(console: Console, timeout: float = 10) -> None:
    """Wait until the server has disconnected ``console`` (letting background tasks run meanwhile)."""
    wait_until(lambda: not console.connected, timeout, f"{console.namespace} to be disconnected", sleep=gevent.sleep)


@pytest.fixture
def serving(app, socketio, monkeypatch) -> Iterator[None]:
    """``start_serving`` as `stage serve` calls it (the display and console-session watchers start), each
    task killed afterwards: the watchers loop for as long as the server serves."""
    tasks: list[gevent.Greenlet] = []
    start = socketio.start_background_task

    def keep(target, *args, **kwargs):  # type: ignore[no-untyped-def]
        task = start(target, *args, **kwargs)
        tasks.append(task)
        return task

    monkeypatch.setattr(socketio, "start_background_task", keep)
    start_serving(app)
    monkeypatch.undo()
    watchers = app.extensions["stage.watchers"]  # one process alone runs the show: both kinds start
    assert len(tasks) == len(watchers.serving) + len(watchers.conducting)
    yield
    gevent.killall(tasks)


def test_a_cookie_replayed_after_logout_is_refused_everywhere(app, consoles, caplog):
    caplog.set_level(logging.INFO, logger="stage.realtime.consoles")
    address = next(ADDRESSES)
    host = logged_in(app, "host")
    copied = host.get_cookie(app.config["SESSION_COOKIE_NAME"]).value  # what anyone on the venue Wi-Fi could read
    assert replaying(app, copied).get("/api/rehearsal/status").status_code == 200
    assert 'action="/logout"' in host.get("/host").get_data(as_text=True), "the console offers Log out"
    assert host.post("/logout").status_code == 302
    page = replaying(app, copied).get("/host")
    assert page.status_code == 302 and page.headers["Location"].endswith("/login/host")
    assert replaying(app, copied).get("/host/audit.csv").status_code == 403
    assert replaying(app, copied).get("/api/rehearsal/status").status_code == 403
    for namespace in ("/host", "/moderation", "/crew"):
        assert consoles.refusal(namespace, client=replaying(app, copied, address))["data"]["code"] == "session_ended"
    assert audit_actions(app) == [("login", "host"), ("logout", "host")]
    assert any("/host refused a connection" in line for line in logged(caplog, "stage.realtime.consoles"))


def test_logout_disconnects_that_sessions_sockets_only(app, consoles):
    leaving = logged_in(app, "host")
    host, moderation = consoles.open("/host", client=leaving), consoles.open("/moderation", client=leaving)
    staying = consoles.host()  # another host console, its own login
    host.wait_for("cues")
    moderation.wait_for("queue")
    leaving.post("/logout")
    disconnected(host)
    disconnected(moderation)
    # The server cannot reach a socket it has disconnected: an event there was sent before the disconnect.
    assert received(host, "session_ended")[0]["message"], "told why before the disconnect"
    assert received(moderation, "session_ended")
    assert staying.call("go")["ok"], "another console's session is untouched"


def test_a_socket_whose_session_ended_elsewhere_can_do_nothing_more(app, consoles, client):
    host = consoles.host()
    host.wait_for("cues")
    revoke_elsewhere(app)  # this app's sockets never heard
    ack = host.call("go")
    assert ack["ok"] is False and ack["error"]["code"] == "session_ended", ack
    disconnected(host)  # by a background task, after the ack
    assert client.get("/healthz").get_json()["cue"] == "1", "the GO did not fire"


def test_an_idle_socket_whose_session_ended_elsewhere_is_disconnected(app, consoles, serving):
    moderation = consoles.moderation()
    moderation.wait_for("queue")  # a moderator console that only listens: it would keep seeing the queue
    revoke_elsewhere(app)
    disconnected(moderation, timeout=30)  # within the server's sweep, without sending anything
    assert received(moderation, "session_ended"), "told why"


@pytest.mark.parametrize("role", ["host", "crew"])
def test_successful_logins_never_count_toward_the_limit(app, role):
    sessions = [logged_in(app, role) for _ in range(15)]  # logged_in asserts each answer is the redirect
    assert all(s.get(f"/{role}").status_code == 200 for s in sessions)


def test_only_failures_lock_out_and_only_that_address_and_role(app, caplog):
    caplog.set_level(logging.INFO, logger="stage.web.auth")
    address = next(ADDRESSES)  # its own: the lockout's log line is throttled process-wide per address

    def attempt(role: str, passphrase: str) -> int:
        return client_at(app, address).post(f"/login/{role}", data={"passphrase": passphrase}).status_code

    assert [attempt("host", f"guess{i}") for i in range(9)] == [401] * 9
    assert attempt("host", PASSPHRASES["host"]) == 302  # a success clears this address's failures for host
    assert [attempt("host", f"again{i}") for i in range(10)] == [401] * 10
    # Locked out: even the right passphrase is refused, so a guesser cannot confirm a guess.
    assert attempt("host", "another guess") == 429 and attempt("host", PASSPHRASES["host"]) == 429
    assert attempt("crew", PASSPHRASES["crew"]) == 302, "the lockout is per role: the crew still logs in from here"
    lines = logged(caplog, "stage.web.auth")
    assert sum(f"login as host from {address} locked out" in line for line in lines) == 1, "one line per lockout"


def test_refused_console_connects_are_logged_a_few_lines_a_minute_per_address(app, consoles, caplog):
    caplog.set_level(logging.INFO, logger="stage.realtime.consoles")
    address = next(ADDRESSES)
    for _ in range(30):  # a script reconnecting without a login, in a loop
        assert consoles.refusal("/host", client=client_at(app, address))["data"]["code"] == "not_logged_in"
    log = logged(caplog, "stage.realtime.consoles")
    lines = sum(f"/host refused a connection from {address}" in line for line in log)
    assert 1 <= lines <= 10, f"{lines} log lines for 30 refused connects"
