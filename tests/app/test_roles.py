"""Roles, in process: connections without credentials are refused and logged; wrong-role events change nothing.

Moved from ``tests/integration/test_roles.py``; a display lost without a close handshake stays there.
Tests that count log lines per address use an address of their own: the log throttle
(``stage/limiter.py``'s ``log_sometimes``) is process-wide, as logging is, so another in-process test at
127.0.0.1 would count toward it. (Rate windows, login failures included, belong to each app.)
"""

from __future__ import annotations

import itertools
import logging
import uuid

from flask.testing import FlaskClient

from tests.in_process import PASSPHRASES, client_at, logged_in
from tests.peers import go

ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))  # TEST-NET-2, one per test (see the docstring)


def refused(consoles, namespace: str, *, client: FlaskClient | None = None, **kwargs) -> str:
    """The refusal message of a connection to ``namespace`` (failing the test if it connected)."""
    return consoles.refusal(namespace, client=client, **kwargs)["message"]


def logged(caplog, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


def test_consoles_refuse_connections_without_a_login(app, consoles, caplog):
    caplog.set_level(logging.INFO, logger="stage.realtime.consoles")
    address = next(ADDRESSES)
    assert "log in" in refused(consoles, "/host", client=client_at(app, address))
    assert "log in" in refused(consoles, "/crew", client=client_at(app, address))
    forged = client_at(app, address)  # in the client's jar: Werkzeug drops a Cookie header when its jar is empty
    forged.set_cookie(app.config["SESSION_COOKIE_NAME"], "forged.cookie.value")
    assert "log in" in refused(consoles, "/host", client=forged)
    crew = client_at(app, address)
    assert crew.post("/login/crew", data={"passphrase": PASSPHRASES["crew"]}).status_code == 302
    assert "log in" in refused(consoles, "/host", client=crew)
    assert consoles.crew().wait_for("cues")["standby"] == "1"  # the crew login does open /crew
    log = logged(caplog, "stage.realtime.consoles")
    assert sum("/host refused a connection" in line for line in log) == 3
    assert any("/crew refused a connection" in line for line in log)


def test_displays_and_capture_agents_need_their_keys(app, consoles, client, caplog):
    caplog.set_level(logging.INFO, logger="stage.realtime.devices")
    address = next(ADDRESSES)  # the wrong crew token counts toward that address's crew-login lockout
    key = app.extensions["stage.night"].display_key("main")
    assert "wrong key" in refused(consoles, "/display", client=client_at(app, address))
    assert "wrong key" in refused(consoles, "/display", client=client_at(app, address), auth={"name": "main", "key": "0" * 24})
    assert "wrong key" in refused(consoles, "/display", client=client_at(app, address), auth={"name": "nope", "key": key})
    assert "crew token" in refused(consoles, "/capture", client=client_at(app, address),
                                   auth={"token": "guess", "rig": "stage"})
    assert consoles.display().wait_for("scene")["display"] == "main"
    assert any("display main online" in line for line in logged(caplog, "stage.realtime.devices"))
    assert client.get("/display/main?key=wrong").status_code == 403
    assert client.get(f"/display/main?key={key}").status_code == 200


def test_audience_emitting_host_events_gets_an_error_and_nothing_happens(app, consoles, client, caplog):
    caplog.set_level(logging.INFO, logger="stage.realtime.base")
    host = consoles.host()
    go(host)
    go(host)  # prompt open
    phone = consoles.phone("Mallory", address=next(ADDRESSES))
    story_id = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "hi"})["ok"]
    for event, payload in (("moderate", {"id": story_id, "decision": "approve"}), ("go", {}), ("admin", None)):
        ack = phone.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "unknown_event", ack
    status = app.extensions["stage.store"].query("SELECT status FROM records WHERE id = ?", (story_id,))
    assert [tuple(row) for row in status] == [("pending",)]
    assert client.get("/healthz").get_json()["cue"] == "3"
    assert any("refused unknown event 'moderate'" in line for line in logged(caplog, "stage.realtime.base"))


def test_login_pages(app, client):
    assert client.get("/host").headers["Location"].endswith("/login/host")
    wrong = client.post("/login/host", data={"passphrase": "nope"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    page = logged_in(app, "host").get("/host")
    assert page.status_code == 200 and 'id="go"' in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert logged_in(app, "crew").get("/host").status_code == 302


def test_a_login_from_the_book_page_goes_back_to_it_and_nowhere_else(app):
    crew = client_at(app, next(ADDRESSES))
    form = crew.get("/book")
    assert form.headers["Location"].endswith("/login/crew?next=/book")
    assert 'name="next" value="/book"' in crew.get(form.headers["Location"]).get_data(as_text=True)
    back = crew.post("/login/crew", data={"passphrase": PASSPHRASES["crew"], "next": "/book"})
    assert back.headers["Location"].endswith("/book") and crew.get("/book").status_code == 200
    moderator = client_at(app, next(ADDRESSES))
    for wanted in ("https://evil.example/", "//evil.example/book", "/book"):  # the moderator may not open /book
        answer = moderator.post("/login/moderator", data={"passphrase": PASSPHRASES["moderator"], "next": wanted})
        assert answer.headers["Location"].endswith("/moderate"), wanted


def test_login_attempts_are_rate_limited(app):
    guesser = client_at(app, next(ADDRESSES))  # its own address: the lockout must not reach other tests' logins
    codes = [guesser.post("/login/host", data={"passphrase": f"guess{i}"}).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_spoofed_connect_and_disconnect_events_are_refused(consoles, client):
    phone = consoles.phone("Ada", address=next(ADDRESSES))
    display = consoles.display()
    for peer in (phone, display):
        assert peer.call("disconnect")["error"]["code"] == "unknown_event"
        assert peer.call("connect", {"name": "main", "key": "x"})["error"]["code"] == "unknown_event"
    health = client.get("/healthz").get_json()
    assert health["phones"] == 1 and health["displays"] == {"main": 1}


def test_one_connection_cannot_become_many_phones(app, consoles):
    phone = consoles.phone("Ada", address=next(ADDRESSES))
    other = phone.call("join", {"device_key": uuid.uuid4().hex, "name": "Sock puppet"})
    assert other["error"]["code"] == "already_joined"
    rename = phone.call("join", {"device_key": phone.device_key, "name": "Ada L."})
    assert rename["ok"] and rename["participant"]["id"] == phone.participant["id"]
    acks = [phone.call("join", {"device_key": phone.device_key, "name": f"Ada {i}"}) for i in range(10)]
    assert acks[-1]["error"]["code"] == "rate_limited"
    assert [tuple(row) for row in app.extensions["stage.store"].query("SELECT COUNT(*) FROM participants")] == [(1,)]


def test_go_refuses_a_payload_it_does_not_take(consoles, client):
    host = consoles.host()
    assert host.call("go", {"evil": [1, 2]})["error"]["code"] == "invalid_payload"
    assert host.call("go", "now")["error"]["code"] == "invalid_payload"
    assert client.get("/healthz").get_json()["cue"] == "1"
