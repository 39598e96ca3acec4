"""``/healthz``: the public answer stays small; crew and host logins also see process internals
(greenlets, Engine.IO sessions, packets queued for clients)."""

from __future__ import annotations

import requests

from tests.waiting import wait_until

INTERNALS = ("greenlets", "sessions", "outbox")


def internals(stage, role: str) -> dict:
    return requests.get(f"{stage.url}/healthz", headers={"Cookie": stage.cookie_header(role)}, timeout=10).json()


def test_process_internals_are_for_crew_and_host_only(stage):
    public = requests.get(f"{stage.url}/healthz", timeout=10).json()
    assert public["status"] == "ok" and not set(INTERNALS) & set(public)
    for role in ("crew", "host"):
        answer = internals(stage, role)
        assert isinstance(answer["greenlets"], int) and answer["greenlets"] > 0, answer
        assert isinstance(answer["outbox"], int) and answer["outbox"] >= 0, answer
    assert not set(INTERNALS) & set(internals(stage, "moderator"))


def test_sessions_count_the_connected_clients(stage, peers):
    before = internals(stage, "crew")["sessions"]
    phone = peers.phone("Ana")
    wait_until(lambda: internals(stage, "crew")["sessions"] == before + 1, what="the phone's session")
    phone.client.disconnect()
    wait_until(lambda: internals(stage, "crew")["sessions"] == before, what="the phone's session to end")
