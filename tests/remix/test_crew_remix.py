"""The crew console's remix events over real Socket.IO: render in a worker with progress, cancel, submit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import av
import pytest
import requests

from tests.remix.conftest import STORY

RENDER_TIMEOUT = 120


def media_files(data: Path) -> set[str]:
    return {p.name for p in (data / "media").iterdir()}


def test_crew_renders_a_captioned_take_and_sends_it_to_moderation(remix_night):
    night = remix_night
    crew = night.peers.crew()
    sources = crew.call("remix_sources")
    assert sources["ok"] and sources["crew_approves_own"] is False
    kinds = {r["id"]: r["kind"] for r in sources["records"]}
    assert kinds[night.story] == "story" and kinds[night.drawing] == "drawing" and kinds[night.takes[0]] == "take"
    ack = crew.call("remix_render", {"recipe": {"recipe": "captioned-take", "take": night.takes[0]}})
    assert ack["ok"], ack
    assert ack["sources"] == [night.takes[0], night.story] and ack["seconds"] == pytest.approx(3.0)
    done = crew.wait_for("remix_done", lambda d: d["job"] == ack["job"], timeout=RENDER_TIMEOUT)
    fractions = [p["fraction"] for p in crew.drain("remix_progress") if p["job"] == ack["job"]]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {n["id"] for n in done["lineage"]["nodes"]} == {ack["job"], night.takes[0], night.story}
    assert {p["name"]: p["roles"] for p in done["credits"]} == {
        "Ada": ["wrote"], "Cy": ["performed"], "Sam": ["filmed"]}, "people only: never the rig"
    preview = night.stage.login("crew").get(f"{night.stage.url}{done['media']}")
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "video/mp4"
    assert requests.get(f"{night.stage.url}{done['media']}").status_code == 404, "drafts are for the crew only"
    refused = crew.call("remix_submit", {"job": ack["job"], "approve": True})
    assert refused["error"]["code"] == "approve_not_allowed"
    sent = crew.call("remix_submit", {"job": ack["job"]})
    assert sent["ok"] and sent["record"]["kind"] == "remix" and sent["record"]["status"] == "pending"
    assert sent["record"]["text"] == STORY, "its words are the whole story it tells, not the recipe's name"
    queued = night.moderator.wait_for("queue_add", lambda d: d["record"]["id"] == sent["record"]["id"])
    assert set(queued["record"]["sources"]) == {night.takes[0], night.story}
    night.approve(sent["record"]["id"])
    lineage = crew.call("lineage", {"id": sent["record"]["id"]})
    assert lineage["ok"] and "remix" in {r for p in lineage["credits"] for r in p["roles"]}
    stored = night.data / "media" / sent["record"]["media"].removeprefix("/media/")
    with av.open(str(stored)) as container:
        assert {s.codec_context.name for s in container.streams} == {"h264", "aac"}


def test_a_cancelled_render_leaves_nothing(remix_night):
    night = remix_night
    crew = night.peers.crew()
    before = media_files(night.data)
    ack = crew.call("remix_render", {"recipe": {"recipe": "reel", "takes": night.takes * 6, "resolution": "1080p"}})
    assert ack["ok"], ack
    crew.wait_for("remix_progress", lambda d: d["job"] == ack["job"] and d["fraction"] > 0, timeout=RENDER_TIMEOUT)
    assert crew.call("remix_cancel", {"job": ack["job"]})["ok"]
    failed = crew.wait_for("remix_failed", lambda d: d["job"] == ack["job"], timeout=30)
    assert failed["error"]["code"] == "cancelled"
    assert media_files(night.data) == before, "no half-written file, no render folder"
    assert crew.call("remix_submit", {"job": ack["job"]})["error"]["code"] == "no_draft"


def test_a_render_of_a_damaged_take_fails_with_a_reason(remix_night):
    night = remix_night
    crew = night.peers.crew()
    with sqlite3.connect(night.data / "stage.db") as db:
        name = db.execute("SELECT media FROM records WHERE id = ?", (night.takes[1],)).fetchone()[0]
    (night.data / "media" / name).write_bytes(b"not a video at all" * 100)
    ack = crew.call("remix_render", {"recipe": {"recipe": "captioned-take", "take": night.takes[1]}})
    failed = crew.wait_for("remix_failed", lambda d: d["job"] == ack["job"], timeout=RENDER_TIMEOUT)
    assert failed["error"]["code"] == "source_corrupt" and "could not be decoded" in failed["error"]["message"]


@pytest.mark.parametrize("recipe, code", [
    ({"recipe": "captioned-take", "take": "00000000-0000-4000-8000-000000000000"}, "unknown_record"),
    ({"recipe": "sculpture", "take": "x"}, "invalid_payload"),
    ({"recipe": "reel", "takes": []}, "invalid_payload"),
])
def test_bad_recipes_are_refused_in_the_ack(remix_night, recipe, code):
    crew = remix_night.peers.crew()
    ack = crew.call("remix_render", {"recipe": recipe})
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
