"""``/healthz``: the public answer stays small; crew and host logins also see the greenlet count."""

from __future__ import annotations

import requests


def test_greenlet_count_is_for_crew_and_host_only(stage):
    public = requests.get(f"{stage.url}/healthz", timeout=10).json()
    assert public["status"] == "ok" and "greenlets" not in public
    for role in ("crew", "host"):
        answer = requests.get(f"{stage.url}/healthz", headers={"Cookie": stage.cookie_header(role)}, timeout=10).json()
        assert isinstance(answer["greenlets"], int) and answer["greenlets"] > 0, answer
    moderator = requests.get(f"{stage.url}/healthz", headers={"Cookie": stage.cookie_header("moderator")}, timeout=10)
    assert "greenlets" not in moderator.json()
