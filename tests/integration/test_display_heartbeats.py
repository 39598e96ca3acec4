"""The host sees each display online, answering its heartbeats, and the scene it says it shows."""

from __future__ import annotations

from tests.stage_process import StageProcess


def _main(data: dict) -> dict:
    return next(d for d in data["displays"] if d["name"] == "main")


def test_a_connected_display_that_stops_answering_is_reported_and_recovers(stage: StageProcess, peers):
    host = peers.host()
    display = peers.display("main")
    assert display.wait_for("scene")["scene"]["type"] == "join"
    online = host.wait_for("displays", lambda d: _main(d)["online"])
    assert _main(online)["responding"] is True  # a fresh connection counts as a beat

    # This display never beats (a frozen page keeps its socket): within three intervals the host knows.
    stuck = host.wait_for("displays", lambda d: _main(d)["online"] and not _main(d)["responding"], timeout=30)
    assert _main(stuck)["scene"] == "join"
    assert "has not answered" in stage.log_text()

    ack = display.call("heartbeat", {"scene": "wall", "scene_id": None})
    assert ack["ok"]
    back = host.wait_for("displays", lambda d: _main(d)["responding"])
    assert _main(back)["showing"] == "wall" and _main(back)["scene"] == "join"  # says it shows another scene

    assert display.call("heartbeat", {"scene": "x" * 500})["error"]["code"] == "invalid_payload"
    assert display.call("media_ended", {"scene_id": "nope"}) == {"ok": True, "scene": None}
    display.close()
    gone = host.wait_for("displays", lambda d: not _main(d)["online"])
    assert _main(gone)["showing"] is None and _main(gone)["responding"] is False
