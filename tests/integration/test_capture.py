"""Capture, server side: a real server, a python-socketio client as the rig's agent, real MP4 takes."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest
import requests
import socketio

from tests.agent_peer import AgentPeer, upload
from tests.integration.test_first_night import db_rows
from tests.peers import go
from tests.conftest import PeerFactory, demo_show
from tests.stage_process import CREW_PASSWORD, StageProcess
from tests.take_files import make_take


@pytest.fixture(scope="module")
def take_data(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_take(tmp_path_factory.mktemp("takes") / "take.mp4", seconds=2.0).read_bytes()


@pytest.fixture
def agent(stage, peers):
    agent = AgentPeer(stage.url)
    yield agent
    agent.close()


def performance_ready(stage, peers) -> dict:
    """Story approved and on the main display (the chosen story), a volunteer for it, standby on cue 5."""
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)  # join scene, prompt open
    phone = peers.phone("Ada")
    story = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": story, "prompt": "cape", "text": "The cape flew off."})["ok"]
    assert moderator.call("moderate", {"id": story, "decision": "approve"})["ok"]
    assert host.call("send_to_display", {"display": "main", "record": story})["ok"]
    other = peers.phone("Bo")  # volunteered later, but for no story: Ada offered for this one
    assert phone.call("volunteer", {"consent_version": "1", "story": story})["ok"]
    assert other.call("volunteer", {"consent_version": "1"})["ok"]
    assert host.call("jump", {"cue": "5"})["ok"]
    return {"host": host, "phone": phone, "story": story}


def record_take(stage, peers, agent) -> dict:
    ready = performance_ready(stage, peers)
    fired = go(ready["host"])["fired"]
    kind, command = agent.next_command()
    assert kind == "record"
    assert go(ready["host"])["fired"]["cue"] == "6"  # cut
    assert agent.next_command()[0] == "stop"
    return {**ready, "fired": fired, "take_id": command["take_id"], "slate": command["slate"]}


def test_record_cue_sends_record_with_the_slate_and_the_stop_cue_stops(stage, peers, agent):
    ready = performance_ready(stage, peers)
    crew = peers.crew()
    assert go(ready["host"])["fired"]["cue"] == "5"
    kind, command = agent.next_command()
    assert kind == "record"
    uuid.UUID(command["take_id"])
    assert command["slate"] == {"show": "Tiny Stories — a live night", "cue": "5", "story_id": ready["story"],
                                "story": "The cape flew off.", "performer_id": ready["phone"].participant["id"],
                                "performer": "Ada", "operator": "Sam", "take": 1}
    # The record cue (and its group) runs while its take rolls, and says on which rig.
    cues = ready["host"].wait_for("cues", lambda s: any(
        c["id"] == "5.3" and c["state"] == "running" and c.get("recording") == "stage" for c in s["cues"]))
    assert not [c for c in cues["cues"] if c["state"] == "error"]
    assert agent.send("take_state", {"take_id": command["take_id"], "state": "recording", "reason": None})["ok"]
    assert crew.wait_for("take_state")["take_id"] == command["take_id"]
    assert agent.health()["ok"]
    assert requests.get(f"{stage.url}/healthz").json()["rigs"] == {"stage": "recording"}

    assert go(ready["host"])["fired"]["cue"] == "6"
    ready["host"].wait_for("cues", lambda s: {c["id"]: c["state"] for c in s["cues"]}["5"] == "done")
    kind, stop = agent.next_command()
    assert (kind, stop) == ("stop", {"take_id": command["take_id"]})
    # The next take of the same story counts up.
    assert ready["host"].call("jump", {"cue": "5"})["ok"]
    go(ready["host"])
    assert agent.next_command()[1]["slate"]["take"] == 2
    audit = db_rows(stage, "SELECT action, subject FROM audit WHERE action IN ('take_start', 'take_stop')")
    assert ("take_start", command["take_id"]) in audit and ("take_stop", command["take_id"]) in audit


def test_a_record_cue_for_an_offline_rig_ends_in_error_with_the_reason(stage, peers):
    host = peers.host()
    assert host.call("jump", {"cue": "5"})["ok"]
    go(host)
    cues = host.wait_for("cues", lambda s: any(c["id"] == "5.3" and c["state"] == "error" for c in s["cues"]))
    cue = next(c for c in cues["cues"] if c["id"] == "5.3")
    assert "rig 'stage' is offline" in cue["error"]


def test_an_agent_that_refuses_makes_the_cue_end_in_error(stage, peers, agent):
    host = peers.host()
    agent.refuse_with = "no_camera"
    assert host.call("jump", {"cue": "5"})["ok"]
    go(host)
    cues = host.wait_for("cues", lambda s: any(c["id"] == "5.3" and c["state"] == "error" for c in s["cues"]))
    assert "the camera did not open" in next(c for c in cues["cues"] if c["id"] == "5.3")["error"]
    refused = agent.next_command()[1]["take_id"]
    assert agent.put(refused, b"x", 0).status_code == 404, "a refused take takes no upload"
    agent.refuse_with = None
    assert peers.crew().call("record", {"rig": "stage"})["slate"]["take"] == 1, "the refused take's number is free"


def test_an_agent_that_acks_too_late_fails_the_cue_but_its_take_is_still_accepted(stage, peers, agent, take_data):
    agent.ack_delay = 3.5  # over the server's 2 s
    crew = peers.crew()
    late = crew.call("record", {"rig": "stage"}, timeout=15)
    assert late["ok"] is False and late["error"]["code"] == "rig_timeout"
    take_id = agent.next_command()[1]["take_id"]
    done = upload(agent, take_id, take_data)
    assert done.status_code == 200 and done.json()["take"]["take"] == 1, "what the agent recorded is not lost"


def test_stop_without_a_take_is_a_clear_error(stage, peers, agent):
    crew = peers.crew()
    ack = crew.call("stop_recording", {"rig": "stage"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_recording"
    assert agent.next_command() == ("stop", {"take_id": None})


def test_health_take_states_and_previews_reach_the_crew_console(stage, peers, agent):
    crew = peers.crew()
    rigs = crew.wait_for("rigs", lambda r: r["rigs"][0]["status"] == "online")
    assert rigs["rigs"][0]["name"] == "stage"
    assert agent.health(fps_in=29.5, dropped=3)["ok"]
    health = crew.wait_for("rig_health")
    assert health["rig"] == "stage" and health["fps_in"] == 29.5 and health["dropped"] == 3
    assert health["audio_db"] == -18.5 and health["disk_free"] == 50 * 1024 ** 3
    bad = agent.send("health", {"recording": "maybe"})
    assert bad["ok"] is False and bad["error"]["code"] == "invalid_payload"

    display = peers.display()
    jpeg = b"\xff\xd8\xff\xe0" + bytes(2000)
    assert crew.call("watch_preview", {"rig": "stage"})["ok"]
    assert agent.send("preview", {"jpeg": jpeg})["ok"]
    assert crew.wait_for("preview") == {"rig": "stage", "jpeg": jpeg}
    assert display.drain("preview") == []  # the display did not join this rig's preview room
    too_big = agent.send("preview", {"jpeg": bytes(300 * 1024)})
    assert too_big["ok"] is False and too_big["error"]["code"] == "invalid_payload"
    assert crew.call("watch_preview", {"rig": "nowhere"})["error"]["code"] == "unknown_rig"

    crew.call("record", {"rig": "stage"})
    take_id = agent.next_command()[1]["take_id"]
    assert agent.send("take_state", {"take_id": take_id, "state": "failed", "reason": "camera stopped answering"})["ok"]
    assert crew.wait_for("take_state")["reason"] == "camera stopped answering"
    agent.close()
    assert crew.wait_for("rigs", lambda r: r["rigs"][0]["status"] == "offline")


def test_wrong_token_and_unknown_rig_are_refused(stage):
    with pytest.raises(socketio.exceptions.ConnectionError):
        AgentPeer(stage.url, token="not-the-crew-pass")
    with pytest.raises(socketio.exceptions.ConnectionError):
        AgentPeer(stage.url, rig="balcony")
    take_id = str(uuid.uuid4())
    response = requests.get(f"{stage.url}/api/takes/{take_id}/upload", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert requests.get(f"{stage.url}/healthz").json()["rigs"] == {"stage": "offline"}


def test_an_upload_cut_halfway_resumes_and_the_take_is_listed_with_story_cue_and_performer(stage, peers, agent,
                                                                                           take_data):
    recorded = record_take(stage, peers, agent)
    take_id = recorded["take_id"]
    crew = peers.crew()
    half = len(take_data) // 2
    agent.put_cut(take_id, take_data, 0, half)
    held = _wait_received(agent, take_id)
    assert 0 < held <= half, "what arrived before the cut is kept"
    wrong = agent.put(take_id, take_data[held + 10:], held + 10)
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "offset_mismatch"
    assert wrong.json()["received"] == held
    early = agent.complete(take_id, take_data)
    assert early.status_code == 409 and early.json()["error"]["code"] == "incomplete"

    done = upload(agent, take_id, take_data)
    assert done.status_code == 200, done.text
    progress = crew.wait_for("take_upload", lambda p: p["received"] == len(take_data))
    assert progress == {"take_id": take_id, "rig": "stage", "received": len(take_data)}
    take = done.json()["take"]
    assert take["story_id"] == recorded["story"] and take["cue"] == "5" and take["take"] == 1
    assert take["performer_id"] == recorded["phone"].participant["id"] and take["performer"] == "Ada"
    assert take["duration"] == pytest.approx(2.0, abs=0.1) and (take["width"], take["height"]) == (320, 240)
    assert take["sha256"] == hashlib.sha256(take_data).hexdigest()
    assert take["media"] == f"/media/{take['sha256']}.mp4"
    again = agent.complete(take_id, take_data)
    assert again.status_code == 200 and again.json()["take"] == take, "a retried complete returns the same take"

    listed = crew.wait_for("takes", lambda t: t["takes"])["takes"]
    assert [t["id"] for t in listed] == [take_id]
    served = requests.get(f"{stage.url}{take['media']}")
    assert served.status_code == 200 and served.content == take_data
    rows = db_rows(stage, "SELECT kind, status, crew_author FROM records WHERE id = ?", (take_id,))
    assert rows == [("take", "approved", "Stage crew")]
    assert db_rows(stage, "SELECT source_id FROM record_sources WHERE record_id = ?", (take_id,)) == \
        [(recorded["story"],)]
    assert db_rows(stage, "SELECT subject FROM audit WHERE action = 'take'") == [(take_id,)]
    assert not list((stage.data_dir / "takes").iterdir()), "the partial file moved into the media library"


def _wait_received(agent: AgentPeer, take_id: str) -> int:
    """The server notices a cut connection a moment after the client drops it."""
    for _ in range(50):
        held = agent.received(take_id)
        if held:
            return held
        time.sleep(0.1)
    return agent.received(take_id)


def test_a_tampered_upload_is_refused_and_discarded(stage, peers, agent, take_data):
    take_id = record_take(stage, peers, agent)["take_id"]
    tampered = bytearray(take_data)
    tampered[len(tampered) // 2] ^= 0xFF
    assert agent.put(take_id, bytes(tampered), 0).ok
    refused = agent.complete(take_id, take_data)  # the agent's checksum is of the real file
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "checksum_mismatch"
    assert agent.received(take_id) == 0, "the partial file is discarded"
    assert upload(agent, take_id, take_data).status_code == 200, "a clean upload afterwards is accepted"
    # A file already in the library (a crash between the move and the commit) is committed without a re-upload.
    again = peers.crew().call("record", {"rig": "stage"})["take_id"]
    stored = agent.complete(again, take_data)
    assert stored.status_code == 200, stored.text
    assert stored.json()["take"]["media"] == f"/media/{hashlib.sha256(take_data).hexdigest()}.mp4"
    assert ("rig:stage", "take", again) in db_rows(stage, "SELECT actor, action, subject FROM audit")


def test_uploads_need_a_started_take_and_respect_the_size_cap(stage, peers, agent, take_data):
    unknown = agent.put(str(uuid.uuid4()), b"x" * 10, 0)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_take"
    not_uuid = requests.put(f"{stage.url}/api/takes/abc/upload?offset=0", data=b"x",
                            headers={"Authorization": f"Bearer {CREW_PASSWORD}"})
    assert not_uuid.status_code == 400


def test_circle_trim_and_soft_delete(stage, peers, agent, take_data):
    take_id = record_take(stage, peers, agent)["take_id"]
    assert upload(agent, take_id, take_data).ok
    crew = peers.crew()
    circled = crew.call("circle_take", {"id": take_id})
    assert circled["ok"] and circled["take"]["circled"] is True
    trimmed = crew.call("trim_take", {"id": take_id, "in_point": 0.5, "out_point": 1.5})
    assert trimmed["ok"] and (trimmed["take"]["in_point"], trimmed["take"]["out_point"]) == (0.5, 1.5)
    backwards = crew.call("trim_take", {"id": take_id, "in_point": 1.5, "out_point": 0.5})
    assert backwards["ok"] is False and backwards["error"]["code"] == "in_after_out"
    beyond = crew.call("trim_take", {"id": take_id, "in_point": 0.0, "out_point": 99})
    assert beyond["ok"] is False and beyond["error"]["code"] == "out_of_range"
    assert crew.call("takes")["takes"][0]["out_point"] == 1.5, "a refused trim changes nothing"
    assert crew.call("delete_take", {"id": take_id})["ok"]
    assert crew.call("takes")["takes"] == []
    assert crew.call("circle_take", {"id": take_id})["error"]["code"] == "unknown_take"
    assert db_rows(stage, "SELECT deleted_at IS NOT NULL FROM takes WHERE record_id = ?", (take_id,)) == [(1,)]


def test_a_withdrawn_consent_hides_the_take_everywhere(stage, peers, agent, take_data):
    recorded = record_take(stage, peers, agent)
    take_id = recorded["take_id"]
    take = upload(agent, take_id, take_data).json()["take"]
    crew, display = peers.crew(), peers.display()
    media_url = f"{stage.url}{take['media']}"
    assert requests.get(media_url).status_code == 200
    assert recorded["host"].call("send_to_display", {"display": "main", "record": take_id})["ok"]
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "media")["record"]["id"] == take_id

    assert recorded["phone"].call("withdraw_consent")["ok"]
    assert crew.wait_for("takes", lambda t: t["takes"] == [])
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "media")["record"] is None
    assert display.wait_for("wall_remove", lambda w: w["id"] == take_id)
    assert take_id in recorded["phone"].wait_for("feed_update", lambda f: take_id in f["removed"])["removed"]
    assert requests.get(media_url).status_code == 404
    crew_session = stage.login("crew")
    assert crew_session.get(media_url).status_code == 404, "hidden from the crew too"
    refused = recorded["host"].call("send_to_display", {"display": "main", "record": take_id})
    assert refused["ok"] is False
    feed = recorded["phone"].call("feed", {})
    assert take_id not in [r["id"] for r in feed["records"]]


def test_a_take_started_before_a_restart_uploads_after_it(tmp_path, take_data):
    show, data = demo_show(tmp_path), tmp_path / "data"
    first = StageProcess(show, data).start()
    agent = AgentPeer(first.url)
    peers = PeerFactory(first)
    take_id = peers.crew().call("record", {"rig": "stage"})["take_id"]
    assert agent.put(take_id, take_data[:1000], 0).ok
    first.stop()
    peers.close_all()
    agent.close()

    second = StageProcess(show, data).start()
    try:
        agent = AgentPeer(second.url)
        assert agent.received(take_id) == 1000
        done = upload(agent, take_id, take_data)
        assert done.status_code == 200 and done.json()["take"]["take"] == 1
    finally:
        second.stop()
        agent.close()


def test_panic_stops_a_recording_rig(stage, peers, agent):
    host = peers.host()
    take_id = peers.crew().call("record", {"rig": "stage"})["take_id"]
    assert agent.next_command()[0] == "record"
    panic = host.call("panic")
    assert panic["ok"] and panic["panic"]["problems"] == []
    assert agent.next_command() == ("stop", {"take_id": take_id})
    assert requests.get(f"{stage.url}/healthz").json()["rigs"] == {"stage": "online"}
    assert host.call("panic")["panic"]["problems"] == [], "a second panic has nothing to stop"
    assert agent.commands.empty()


def test_record_and_stop_under_eventlet(tmp_path):
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", async_mode="eventlet").start()
    peers = PeerFactory(server)
    agent = None
    try:
        agent = AgentPeer(server.url)
        crew = peers.crew()
        started = crew.call("record", {"rig": "stage"})
        assert started["ok"] and agent.next_command() == ("record", {"take_id": started["take_id"],
                                                                      "slate": started["slate"]})
        assert crew.call("stop_recording", {"rig": "stage"}) == {"ok": True, "take_id": started["take_id"]}
    finally:
        server.stop()
        peers.close_all()
        if agent:
            agent.close()


def test_a_take_chunk_may_exceed_the_phone_upload_cap_but_not_the_take_cap(tmp_path):
    show = demo_show(tmp_path)
    show.write_text(show.read_text().replace("\nrigs:", "\nlimits:\n  max_upload_mb: 1\n  max_take_mb: 3\n\nrigs:", 1))
    server = StageProcess(show, tmp_path / "data").start()
    agent = None
    try:
        agent = AgentPeer(server.url)
        crew = PeerFactory(server).crew()
        take_id = crew.call("record", {"rig": "stage"})["take_id"]
        two_mib = bytes(2 * 1024 * 1024)
        first = agent.put(take_id, two_mib, 0)
        assert first.status_code == 200 and first.json()["received"] == len(two_mib), first.text
        over = agent.put(take_id, two_mib, len(two_mib))
        assert over.status_code == 413 and over.json()["error"]["code"] == "too_large"
        assert "3 MiB" in over.json()["error"]["message"]
        assert agent.received(take_id) == len(two_mib), "what was accepted is kept"
        crew.close()
    finally:
        server.stop()
        if agent:
            agent.close()



def test_the_agents_health_corrects_the_rigs_state_after_a_reconnect(stage, peers, agent):
    crew = peers.crew()
    assert crew.call("record", {"rig": "stage"})["ok"]
    assert agent.next_command()[0] == "record"
    assert requests.get(f"{stage.url}/healthz").json()["rigs"] == {"stage": "recording"}
    agent.close()  # the agent dies mid-take; its successor is not recording
    assert crew.wait_for("rigs", lambda r: r["rigs"][0]["status"] == "offline")
    successor = AgentPeer(stage.url)
    try:
        # Right after a record a "not recording" report may predate the take: it is believed after a grace.
        assert successor.health(recording=False, take_id=None)["ok"]
        deadline = time.monotonic() + 10
        while requests.get(f"{stage.url}/healthz").json()["rigs"]["stage"] != "online":
            assert time.monotonic() < deadline, "the rig still reads as recording"
            time.sleep(0.5)
            successor.health(recording=False, take_id=None)
    finally:
        successor.close()


def test_a_raw_take_reaches_a_screen_only_when_the_crew_sends_it(stage, peers, agent, take_data):
    recorded = record_take(stage, peers, agent)
    host = recorded["host"]
    assert host.call("jump", {"cue": "7"})["ok"] and go(host)["fired"]["cue"] == "7"  # the wall
    display = peers.display()
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")
    take_id = recorded["take_id"]
    assert upload(agent, take_id, take_data).status_code == 200
    assert peers.crew().wait_for("takes", lambda t: len(t["takes"]) == 1)
    time.sleep(1.5)  # past one batched feed interval: nothing about the take may arrive
    assert not [w for w in display.drain("wall_add") if w["record"]["id"] == take_id]
    assert not [f for f in recorded["phone"].drain("feed_update") if take_id in {r["id"] for r in f["records"]}]
    assert take_id not in {r["id"] for r in recorded["phone"].call("feed", {"limit": 100})["records"]}
    assert take_id not in {r["id"] for r in peers.display().wait_for("scene")["records"]}
    # the crew's own choice puts it on the projector
    assert host.call("send_to_display", {"display": "main", "record": take_id})["ok"]
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "media")["record"]["id"] == take_id


def test_consenting_again_later_does_not_bring_back_the_takes_a_withdrawal_hid(stage, peers, agent, take_data):
    recorded = record_take(stage, peers, agent)
    take_id = recorded["take_id"]
    assert upload(agent, take_id, take_data).status_code == 200
    crew = peers.crew()
    assert crew.wait_for("takes", lambda t: len(t["takes"]) == 1)
    phone = recorded["phone"]
    assert phone.call("withdraw_consent")["ok"]
    assert crew.wait_for("takes", lambda t: t["takes"] == [])
    assert phone.call("volunteer", {"consent_version": "1"})["ok"]  # a new offer, for a new performance
    assert crew.call("takes")["takes"] == [], "the withdrawal still covers the old take"
    assert recorded["host"].call("send_to_display", {"display": "main", "record": take_id})["ok"] is False


def _capture_refusal(stage: StageProcess, token: str) -> str:
    """Why /capture refused this token (the connect_error data), failing if it connected."""
    client, reasons = socketio.Client(reconnection=False), []
    client.on("connect_error", lambda data=None: reasons.append(data), namespace="/capture")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(stage.url, namespaces=["/capture"], auth={"token": token, "rig": "stage"},
                       transports=["websocket"], wait_timeout=10)
    client.disconnect()
    return str(reasons)


def test_crew_passphrase_guesses_on_capture_and_uploads_share_the_login_lockout(stage):
    # Connects are exempt from the event limits: /capture (and the uploads' Bearer token) could otherwise
    # guess the crew passphrase without limit. Their failures count toward /login/crew from that address.
    refusals = [_capture_refusal(stage, f"guess-{i}") for i in range(10)]
    assert all("unauthorized" in r and "locked_out" not in r for r in refusals), refusals
    assert "locked_out" in _capture_refusal(stage, "guess-11"), "the 11th guess within a minute is locked out"
    assert "locked_out" in _capture_refusal(stage, CREW_PASSWORD), "even the right passphrase, during a lockout"
    upload = requests.get(f"{stage.url}/api/takes/{uuid.uuid4()}/upload",
                          headers={"Authorization": f"Bearer {CREW_PASSWORD}"})
    assert upload.status_code == 429 and upload.json()["error"]["code"] == "locked_out"
    login = requests.post(f"{stage.url}/login/crew", data={"passphrase": CREW_PASSWORD}, allow_redirects=False)
    assert login.status_code == 429, "the crew login from this address is locked too"
    assert stage.log_text().count("/capture refused 127.0.0.1") <= 10, "refusals are throttled per address"


def test_wrong_bearer_tokens_count_toward_the_crew_lockout(stage):
    take = f"{stage.url}/api/takes/{uuid.uuid4()}/upload"
    codes = [requests.get(take, headers={"Authorization": f"Bearer guess-{i}"}).status_code for i in range(11)]
    assert codes == [401] * 10 + [429], codes
    assert "locked_out" in _capture_refusal(stage, CREW_PASSWORD)


def test_a_right_bearer_token_does_not_wipe_the_addresses_earlier_failures(stage):
    """An agent sends its token with every chunk of a take: if each right one wiped the address's failures, a
    guesser at the same address (the serve laptop, a NAT) would get ten more tries per chunk."""
    take = f"{stage.url}/api/takes/{uuid.uuid4()}/upload"
    guesses = [requests.get(take, headers={"Authorization": f"Bearer guess-{i}"}).status_code for i in range(9)]
    right = requests.get(take, headers={"Authorization": f"Bearer {CREW_PASSWORD}"}).status_code
    more = [requests.get(take, headers={"Authorization": f"Bearer again-{i}"}).status_code for i in range(2)]
    assert guesses == [401] * 9 and right != 401 and more == [401, 429], (guesses, right, more)


def test_refused_capture_connects_are_logged_a_few_lines_a_minute_per_address(stage):
    for _ in range(30):  # an agent configured with a rig the show lacks, reconnecting in a loop
        with pytest.raises(socketio.exceptions.ConnectionError):
            AgentPeer(stage.url, rig="balcony")
    lines = stage.log_text().count("/capture refused 127.0.0.1")
    assert 1 <= lines <= 10, f"{lines} log lines for 30 refused connects"
