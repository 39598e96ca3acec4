"""``/metrics`` for venue IT: real values that change with the night, who may read them, and the open
listener of ``--metrics-bind``. In process for the values and the login; a real ``stage serve`` for the
listener on its own port."""

from __future__ import annotations

import base64
import io
import itertools
import uuid

import pytest
import requests
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from stage.errors import StageError
from stage.web.metrics import parse_bind
from tests.conftest import PeerFactory, demo_show
from tests.in_process import PASSPHRASES, logged_in
from tests.lighting.osc_peers import OscDump, free_udp_port
from tests.peers import go
from tests.stage_process import HOST_PASSWORD, StageProcess, free_port
from tests.waiting import wait_until

# Phones of this module at addresses of their own: the per-address join limit outlives one app.
ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))


def png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    out.seek(0)
    return out


def basic(role: str, password: str | None = None) -> dict[str, str]:
    token = base64.b64encode(f"{role}:{password or PASSPHRASES[role]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client) -> dict:
    response = client.get("/metrics", headers=basic("host"))
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain; version=")
    return parse(response.get_data(as_text=True))


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_night_shows_in_the_metrics_as_it_happens(app, client, consoles):
    before = scrape(client)
    assert value(before, "stage_phones_connected") == 0
    assert value(before, "stage_moderation_queue") == 0
    assert value(before, "stage_store_up") == 1 and value(before, "stage_conductor") == 1
    assert value(before, "stage_rigs_online") == 0
    assert value(before, "stage_rig_status", rig="stage", status="offline") == 1
    assert value(before, "stage_osc_target_status", target="lights", status="unknown") == 1
    assert ("stage_osc_messages_sent_total", (("target", "lights"),)) in before

    host, moderator = consoles.host(), consoles.moderation()
    go(host), go(host)  # the join scene, then the cape prompt opens
    phone = consoles.phone("Ana", address=next(ADDRESSES))
    joined = scrape(client)
    assert value(joined, "stage_phones_connected") == 1
    assert value(joined, "stage_cues_fired_total", trigger="go") == value(before, "stage_cues_fired_total",
                                                                          trigger="go") + 2
    ack_count = ("stage_socketio_ack_seconds_count", (("event", "submit_story"), ("namespace", "/audience")))
    assert joined.get(ack_count, 0) == 0

    record_id = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": record_id, "prompt": "cape", "text": "A cape that hums."})["ok"]
    submitted = scrape(client)
    assert value(submitted, "stage_submissions_total", kind="story", outcome="accepted") == 1
    assert submitted[ack_count] == 1
    assert value(submitted, "stage_socketio_acks_total", namespace="/audience", event="submit_story",
                 outcome="ok") == 1
    assert value(submitted, "stage_moderation_queue") == 1
    assert value(submitted, "stage_records", kind="story", status="pending") == 1

    refused = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "nope", "text": "Lost."})
    assert not refused["ok"]
    assert moderator.call("moderate", {"id": record_id, "decision": "approve"})["ok"]
    decided = scrape(client)
    assert value(decided, "stage_moderation_queue") == 0
    assert value(decided, "stage_records", kind="story", status="approved") == 1
    code = refused["error"]["code"]
    assert value(decided, "stage_submissions_total", kind="story", outcome=code) == 1
    assert decided[ack_count] == 2
    # every bucket up to +Inf holds both acks of a handler that took well under ten seconds
    assert value(decided, "stage_socketio_ack_seconds_bucket", namespace="/audience", event="submit_story",
                 le="10.0") == 2

    go(host)
    assert value(scrape(client), "stage_cues_fired_total", trigger="go") == value(before, "stage_cues_fired_total",
                                                                                  trigger="go") + 3
    phone.close()
    wait_until(lambda: value(scrape(client), "stage_phones_connected") == 0, 5, "the phone gone from the gauge")


def test_an_upload_counts_as_a_submission_of_its_kind(app, client, consoles):
    host = consoles.host()
    go(host), go(host)
    phone = consoles.phone("Bo", address=next(ADDRESSES))
    form = {"id": str(uuid.uuid4()), "kind": "drawing", "device_key": phone.device_key, "prompt": "cape",
            "file": (png(), "drawing.png")}
    answer = phone.client.post("/api/uploads", data=form, content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_json()
    closed = {"id": str(uuid.uuid4()), "kind": "photo", "device_key": phone.device_key, "prompt": "other",
              "file": (png(), "photo.png")}
    refused = phone.client.post("/api/uploads", data=closed, content_type="multipart/form-data")
    assert refused.status_code != 200
    samples = scrape(client)
    assert value(samples, "stage_submissions_total", kind="drawing", outcome="accepted") == 1
    assert value(samples, "stage_submissions_total", kind="photo", outcome=refused.get_json()["error"]["code"]) == 1
    assert value(samples, "stage_records", kind="drawing", status="pending") == 1


def test_metrics_need_the_host_or_crew_passphrase_or_console(app, client):
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic ")
    assert client.get("/metrics", headers=basic("crew")).status_code == 200
    assert client.get("/metrics", headers=basic("host", "wrong")).status_code == 401
    assert client.get("/metrics", headers=basic("moderator")).status_code == 401, "moderators do not read metrics"
    assert logged_in(app, "crew").get("/metrics").status_code == 200
    assert logged_in(app, "moderator").get("/metrics").status_code == 401


def test_wrong_basic_auth_passphrases_lock_the_address_out_like_the_login(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    for _ in range(10):
        assert client.get("/metrics", headers=basic("host", "guess")).status_code == 401
    assert client.get("/metrics", headers=basic("host")).status_code == 401, "the right passphrase waits too"
    assert client.get("/metrics", headers=basic("crew")).status_code == 200, "the lockout is per role"


def test_metrics_bind_must_be_host_and_port():
    assert parse_bind("127.0.0.1:9100") == ("127.0.0.1", 9100)
    assert parse_bind("[::1]:9100") == ("::1", 9100)
    for bad in ("9100", "127.0.0.1", "127.0.0.1:", ":9100", "127.0.0.1:99999", "host:port"):
        try:
            parse_bind(bad)
        except StageError as exc:
            assert "host:port" in exc.message
        else:
            raise AssertionError(f"{bad!r} accepted")


@pytest.mark.parametrize("async_mode", ["gevent", "eventlet"])
def test_metrics_bind_serves_the_metrics_without_a_login_there_only(tmp_path, async_mode):
    dump = OscDump(free_udp_port())
    port = free_port()
    server = StageProcess(demo_show(tmp_path, dump.port), tmp_path / "data", async_mode=async_mode,
                          extra_args=("--metrics-bind", f"127.0.0.1:{port}")).start()
    peers = PeerFactory(server)
    try:
        open_metrics = f"http://127.0.0.1:{port}/metrics"
        open_answer = requests.get(open_metrics, timeout=5)
        assert open_answer.status_code == 200
        samples = parse(open_answer.text)
        assert value(samples, "stage_phones_connected") == 0 and value(samples, "stage_store_up") == 1
        assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 401, "the main port still asks"
        main = requests.get(f"{server.url}/metrics", auth=("host", HOST_PASSWORD), timeout=5)
        assert main.status_code == 200 and "stage_phones_connected" in main.text

        peers.phone("Ana")
        host = peers.host()
        for _ in range(5):
            go(host)  # cue 5: the performance look goes to the lighting console
        assert dump.next() == "/eos/cue/1/12/fire"

        def lit() -> bool:
            now = parse(requests.get(open_metrics, timeout=5).text)
            return (value(now, "stage_osc_messages_sent_total", target="lights") == 1
                    and value(now, "stage_osc_target_status", target="lights", status="ok") == 1)

        wait_until(lit, 10, "the OSC message counted as sent")
        samples = parse(requests.get(open_metrics, timeout=5).text)
        assert value(samples, "stage_phones_connected") == 1
        assert value(samples, "stage_cues_fired_total", trigger="go") == 5
        # every press is acked and timed, the debounced ones too (go() presses again past the debounce)
        assert value(samples, "stage_socketio_ack_seconds_count", namespace="/host", event="go") >= 5
        assert value(samples, "stage_osc_messages_dropped_total", target="lights") == 0
    finally:
        peers.close_all()
        server.stop()
        dump.stop()


def test_a_metrics_bind_that_cannot_listen_stops_the_start_with_why(tmp_path):
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", extra_args=("--metrics-bind", "127.0.0.1:nope"))
    try:
        server.start()
    except RuntimeError as exc:
        assert "metrics_bind '127.0.0.1:nope' is not host:port" in str(exc)
    else:
        server.stop()
        raise AssertionError("stage serve started with a bad --metrics-bind")
