"""``/healthz`` on a real server, for what needs one: its count of Engine.IO sessions. Who sees the
process internals is tested in process (tests/app/test_health.py)."""

from __future__ import annotations

import requests

from tests.waiting import wait_until

def internals(stage, role: str) -> dict:
    return requests.get(f"{stage.url}/healthz", headers={"Cookie": stage.cookie_header(role)}, timeout=10).json()


# Needs a real server: it counts Engine.IO sessions, which only the real transport opens (the test client
# hands its packets to python-socketio directly).
def test_sessions_count_the_connected_clients(stage, peers):
    before = internals(stage, "crew")["sessions"]
    phone = peers.phone("Ana")
    wait_until(lambda: internals(stage, "crew")["sessions"] == before + 1, what="the phone's session")
    phone.client.disconnect()
    wait_until(lambda: internals(stage, "crew")["sessions"] == before, what="the phone's session to end")
