"""The demo night's credits, through real parts: a `stage serve` of shows/tiny-stories.yaml, phones, host,
moderator, crew and display as Socket.IO clients, a capture agent that records on the record cue and uploads a
real MP4, a captioned-take remix rendered by the worker, and `stage export` of the night.

Ada writes the story, Chloé volunteers and performs it on cue 5, Sam is the demo rig's camera operator (its
`operator` in the show file). Every place that credits the remix says so, and none of them names the rig
("stage") or the recipe ("Captioned take").
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile

import pytest

from tests.agent_peer import AgentPeer, upload
from tests.integration.test_first_night import db_rows
from tests.peers import Peer, go
from tests.remix.test_archive import export
from tests.stage_process import StageProcess
from tests.take_files import make_take

STORY = "The cape was too long, so she wore it as a river and the whole town came to swim."
CREDITS = [{"name": "Ada", "role": "wrote"}, {"name": "Chloé", "role": "performed"},
           {"name": "Sam", "role": "filmed"}, {"name": "Stage crew", "role": "remix"}]
RENDER_TIMEOUT = 120


@pytest.fixture
def agent(stage):
    agent = AgentPeer(stage.url)
    yield agent
    agent.close()


def performed_take(stage, peers, agent, tmp_path) -> dict:
    """Ada's story approved and on the main display, Chloé's consent for it, GO on cue 5 and 6, the take stored."""
    host, moderator, crew = peers.host(), peers.moderation(), peers.crew()
    go(host), go(host)  # cue 1 join, cue 2 the prompt opens
    ada, chloe = peers.phone("Ada"), peers.phone("Chloé")
    story = str(uuid.uuid4())
    assert ada.call("submit_story", {"id": story, "prompt": "cape", "text": STORY})["ok"]
    assert moderator.call("moderate", {"id": story, "decision": "approve"})["ok"]
    assert host.call("send_to_display", {"display": "main", "record": story})["ok"]
    assert chloe.call("volunteer", {"consent_version": chloe.joined["consent"]["version"], "story": story})["ok"]
    assert host.call("jump", {"cue": "5"})["ok"]
    assert go(host)["fired"]["cue"] == "5"
    kind, command = agent.next_command()
    assert kind == "record"
    assert go(host)["fired"]["cue"] == "6"
    assert agent.next_command()[0] == "stop"
    stored = upload(agent, command["take_id"], make_take(tmp_path / "take.mp4", seconds=3.0).read_bytes())
    assert stored.status_code == 200, stored.text
    return {"host": host, "moderator": moderator, "crew": crew, "story": story, "slate": command["slate"],
            "take": stored.json()["take"]}


def test_the_demo_nights_credits_name_the_performer_and_the_camera_operator(stage, peers, agent, tmp_path):
    night = performed_take(stage, peers, agent, tmp_path)
    slate, take, crew = night["slate"], night["take"], night["crew"]
    assert (slate["cue"], slate["performer"], slate["operator"]) == ("5", "Chloé", "Sam"), slate
    listed = crew.wait_for("takes", lambda t: any(x["id"] == take["id"] for x in t["takes"]))["takes"]
    filed = next(x for x in listed if x["id"] == take["id"])
    assert (filed["cue"], filed["operator"]) == ("5", "Sam"), "filed under the performance cue, not 5.3"

    job = crew.call("remix_render", {"recipe": {"recipe": "captioned-take", "take": take["id"]}})
    assert job["ok"], job
    done = crew.wait_for("remix_done", lambda d: d["job"] == job["job"], timeout=RENDER_TIMEOUT)
    assert {p["name"]: p["roles"] for p in done["credits"]} == {"Ada": ["wrote"], "Chloé": ["performed"],
                                                                  "Sam": ["filmed"]}
    sent = crew.call("remix_submit", {"job": job["job"]})
    assert sent["ok"], sent
    remix = sent["record"]["id"]

    queued = night["moderator"].wait_for("queue_add", lambda d: d["record"]["id"] == remix)["record"]
    assert queued["credits"] == CREDITS, "moderation"
    assert queued["text"] == STORY and queued["author"] == "Stage crew", "the story's words, whole; no recipe name"
    assert {s["author"] for s in queued["remix_of"]} == {"Ada", "Chloé"}, "a take by Chloé, not 'by crew'"
    assert night["moderator"].call("moderate", {"id": remix, "decision": "approve"})["ok"]

    display = peers.display("main")
    assert go(night["host"])["fired"]["cue"] == "7"  # back to the wall
    wall = display.wait_for("scene", lambda p: p["scene"]["type"] == "wall")
    shown = next(r for r in wall["records"] if r["id"] == remix)
    assert shown["credits"] == CREDITS and shown["text"] == STORY, "display"
    for record in (queued, shown):
        words = json.dumps({k: record[k] for k in ("author", "text", "credits", "remix_of")}, ensure_ascii=False)
        assert '"stage"' not in words and "Captioned" not in words and "captioned" not in words, words

    out = tmp_path / "night.zip"
    exported = export(stage.data_dir, out, "--show", str(stage.show))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(out) as archive:
        roll = {row["name"]: row["roles"] for row in csv.DictReader(io.StringIO(archive.read("credits.csv").decode()))}
        records = {r["id"]: r for r in json.loads(archive.read("records.json"))}
    assert roll == {"Ada": "wrote", "Chloé": "performed", "Sam": "filmed", "Stage crew": "remix"}, "archive"
    assert records[remix]["credits"] == CREDITS and records[remix]["text"] == STORY
    assert records[take["id"]]["author"] == "Chloé"


def test_the_crew_sets_the_camera_operator_for_the_night_and_the_next_take_is_credited_to_them(stage, peers, agent,
                                                                                             tmp_path):
    crew, other = peers.crew(), peers.crew()
    assert crew.wait_for("rigs")["rigs"][0]["operator"] == "Sam", "the show file's operator"
    ack = crew.call("set_operator", {"rig": "stage", "operator": "  Lee \u200b"})
    assert ack == {"ok": True, "rig": "stage", "operator": "Lee"}, "cleaned as a display name"
    assert other.wait_for("rigs", lambda r: r["rigs"][0]["operator"] == "Lee"), "every crew console hears it"
    assert crew.call("set_operator", {"rig": "balcony", "operator": "Kim"})["error"]["code"] == "unknown_rig"
    assert crew.call("set_operator", {"rig": "stage", "operator": "x" * 41})["error"]["code"] == "invalid_payload"
    assert crew.call("record", {"rig": "stage"})["slate"]["operator"] == "Lee"
    take_id = agent.next_command()[1]["take_id"]
    assert crew.call("stop_recording", {"rig": "stage"})["ok"]
    agent.next_command()
    assert upload(agent, take_id, make_take(tmp_path / "take.mp4", seconds=2.0).read_bytes()).ok
    taken = crew.wait_for("takes", lambda t: t["takes"])["takes"][0]
    assert taken["operator"] == "Lee" and taken["cue"] is None, "the crew's record button: no cue"
    assert crew.call("set_operator", {"rig": "stage", "operator": ""})["operator"] is None
    assert crew.call("record", {"rig": "stage"})["slate"]["operator"] is None, "nobody: no camera credit"
    audit = db_rows(stage, "SELECT actor, subject, detail FROM audit WHERE action = 'rig_operator' ORDER BY seq")
    assert [(a.split(":")[0], s, json.loads(d)["operator"]) for a, s, d in audit] == [
        ("crew", "stage", "Lee"), ("crew", "stage", None)]
    agent.close()
    stage.stop()
    again = StageProcess(stage.show, stage.data_dir).start()  # stored: the night's choice survives a restart
    try:
        console = Peer(again.url, "/crew", headers={"Cookie": again.cookie_header("crew")})
        assert console.wait_for("rigs")["rigs"][0]["operator"] is None
        console.close()
    finally:
        again.stop()
