"""The in-process tier itself: ``create_app`` starts nothing, and the fixtures reach the app the way
phones, consoles and the command line do."""

from __future__ import annotations

import gc
import socket
import threading

import greenlet

from stage.web.health import greenlet_count
from tests.conftest import demo_show
from tests.in_process import built_app
from tests.lighting.osc_peers import free_udp_port
from tests.peers import go


def test_create_app_starts_no_thread_greenlet_or_socket(tmp_path):
    threads, greenlets = threading.active_count(), greenlet_count()
    port = free_udp_port()
    with built_app(demo_show(tmp_path), tmp_path / "data", osc_port=port) as (app, _):
        assert threading.active_count() == threads
        assert greenlet_count() == greenlets, [g for g in gc.get_objects()
                                               if isinstance(g, greenlet.greenlet) and not g.dead]
        _, remote = app.extensions["stage.osc"]
        assert remote is not None and remote.port == port  # built for OSC in, and not listening:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", port))  # the port is still free
        watchers = app.extensions["stage.watchers"]  # they start with start_serving
        assert len(watchers.serving) == 1 and len(watchers.conducting) == 1


def test_the_phone_page_and_a_console_login_through_the_test_client(client):
    page = client.get("/")
    assert page.status_code == 200 and b"<html" in page.data.lower()
    assert client.get("/host").status_code in (302, 401)  # no session: sent to the login form
    assert client.post("/login/host", data={"passphrase": "wrong"}).status_code == 401


def test_a_story_goes_from_a_phone_through_moderation_to_the_other_phones(consoles):
    host, moderator = consoles.host(), consoles.moderation()
    go(host), go(host)  # doors, then the first prompt opens
    ada, bo = consoles.phone("Ada"), consoles.phone("Bo")
    ack = ada.call("submit_story", {"id": "0b7e7c1e-0000-4000-8000-000000000001", "prompt": "cape",
                                    "text": "A cape for a cat."})
    assert ack["ok"] and ack["record"]["status"] == "pending", ack
    queued = moderator.wait_for("queue_add", lambda d: d["record"]["id"] == ack["record"]["id"])
    assert queued["record"]["text"] == "A cape for a cat."
    assert bo.call("feed")["records"] == [], "nothing unmoderated reaches another phone"
    assert moderator.call("moderate", {"id": ack["record"]["id"], "decision": "approve"})["ok"]
    update = bo.wait_for("feed_update")  # the batched broadcast, a background task on gevent's hub
    assert [r["text"] for r in update["records"]] == ["A cape for a cat."]


def test_the_command_line_through_the_runner(runner, app):
    result = runner.invoke("check", str(app.extensions["stage.night"].settings.show_path))
    assert result.exit_code == 0 and "ok —" in result.output
