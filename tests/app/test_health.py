"""``/healthz`` in process: the public answer stays small; crew and host logins also see process
internals (greenlets, Engine.IO sessions, packets queued for clients).

Moved from ``tests/integration/test_health.py``; counting Engine.IO sessions stays there (the test
client opens none).
"""

from __future__ import annotations

from tests.in_process import logged_in

INTERNALS = ("greenlets", "sessions", "outbox")


def test_process_internals_are_for_crew_and_host_only(app, client):
    public = client.get("/healthz").get_json()
    assert public["status"] == "ok" and not set(INTERNALS) & set(public)
    for role in ("crew", "host"):
        answer = logged_in(app, role).get("/healthz").get_json()
        assert isinstance(answer["greenlets"], int) and answer["greenlets"] > 0, answer
        assert isinstance(answer["outbox"], int) and answer["outbox"] >= 0, answer
    assert not set(INTERNALS) & set(logged_in(app, "moderator").get("/healthz").get_json())
