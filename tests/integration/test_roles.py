"""Roles: connections without credentials are refused and logged; wrong-role events change nothing."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
import requests
import socketio

from tests.peers import Peer, go
from tests.stage_process import StageProcess


def refused(stage: StageProcess, namespace: str, **kwargs) -> str:
    with pytest.raises(socketio.exceptions.ConnectionError) as info:
        Peer(stage.url, namespace, **kwargs)
    return str(info.value)


def test_consoles_refuse_connections_without_a_login(stage, peers):
    assert "log in" in refused(stage, "/host")
    assert "log in" in refused(stage, "/crew")
    assert "log in" in refused(stage, "/host", headers={"Cookie": "session=forged.cookie.value"})
    crew_cookie = stage.cookie_header("crew")
    assert "log in" in refused(stage, "/host", headers={"Cookie": crew_cookie})
    assert peers.crew().wait_for("cues")["standby"] == "1"  # the crew login does open /crew
    log = stage.log_text()
    assert log.count("/host refused a connection") == 3 and "/crew refused a connection" in log


def test_displays_and_capture_agents_need_their_keys(stage, peers):
    assert "wrong key" in refused(stage, "/display")
    assert "wrong key" in refused(stage, "/display", auth={"name": "main", "key": "0" * 24})
    assert "wrong key" in refused(stage, "/display", auth={"name": "nope", "key": stage.display_keys["main"]})
    assert "crew token" in refused(stage, "/capture", auth={"token": "guess", "rig": "stage"})
    assert peers.display().wait_for("scene")["display"] == "main"
    assert "display main online" in stage.log_text()
    assert requests.get(f"{stage.url}/display/main?key=wrong").status_code == 403
    assert requests.get(stage.display_url("main")).status_code == 200


def test_audience_emitting_host_events_gets_an_error_and_nothing_happens(stage, peers):
    host = peers.host()
    go(host)
    go(host)  # prompt open
    phone = peers.phone("Mallory")
    story_id = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "hi"})["ok"]
    for event, payload in (("moderate", {"id": story_id, "decision": "approve"}), ("go", {}), ("admin", None)):
        ack = phone.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "unknown_event", ack
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT status FROM records WHERE id = ?", (story_id,)).fetchone() == ("pending",)
    assert requests.get(f"{stage.url}/healthz").json()["cue"] == "3"
    assert "refused unknown event 'moderate'" in stage.log_text()


def test_login_pages(stage):
    assert requests.get(f"{stage.url}/host", allow_redirects=False).headers["Location"].endswith("/login/host")
    wrong = requests.post(f"{stage.url}/login/host", data={"passphrase": "nope"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    session = stage.login("host")
    page = session.get(f"{stage.url}/host")
    assert page.status_code == 200 and 'id="go"' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    crew = stage.login("crew")
    assert crew.get(f"{stage.url}/host", allow_redirects=False).status_code == 302


def test_login_attempts_are_rate_limited(stage):
    codes = [requests.post(f"{stage.url}/login/host", data={"passphrase": f"guess{i}"}).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_spoofed_connect_and_disconnect_events_are_refused(stage, peers):
    phone = peers.phone("Ada")
    display = peers.display()
    for peer in (phone, display):
        assert peer.call("disconnect")["error"]["code"] == "unknown_event"
        assert peer.call("connect", {"name": "main", "key": "x"})["error"]["code"] == "unknown_event"
    health = requests.get(f"{stage.url}/healthz").json()
    assert health["phones"] == 1 and health["displays"] == {"main": 1}


def test_one_connection_cannot_become_many_phones(stage, peers):
    phone = peers.phone("Ada")
    other = phone.call("join", {"device_key": uuid.uuid4().hex, "name": "Sock puppet"})
    assert other["error"]["code"] == "already_joined"
    rename = phone.call("join", {"device_key": phone.device_key, "name": "Ada L."})
    assert rename["ok"] and rename["participant"]["id"] == phone.participant["id"]
    acks = [phone.call("join", {"device_key": phone.device_key, "name": f"Ada {i}"}) for i in range(10)]
    assert acks[-1]["error"]["code"] == "rate_limited"
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT COUNT(*) FROM participants").fetchone() == (1,)


def test_go_refuses_a_payload_it_does_not_take(stage, peers):
    host = peers.host()
    assert host.call("go", {"evil": [1, 2]})["error"]["code"] == "invalid_payload"
    assert host.call("go", "now")["error"]["code"] == "invalid_payload"
    assert requests.get(f"{stage.url}/healthz").json()["cue"] == "1"


def test_host_counters_follow_displays_coming_and_going(stage, peers):
    host = peers.host()
    display = peers.display()
    assert host.wait_for("counts", lambda c: c["displays"] == {"main": 1})
    display.drop()
    assert host.wait_for("counts", lambda c: c["displays"] == {"main": 0})
