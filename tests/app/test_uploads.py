"""Drawings, photos and clips through the app in process, with its real media worker (a child process).

This process is not monkey-patched, so an upload's worker runs to its end inside the request and the
response comes after it (progress events are emitted meanwhile, to the phone's test client). What needs
a real server (uploads in flight at the same time, a body streamed over the wire) stays in
tests/integration/test_uploads.py.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import uuid
from pathlib import Path

import av
import pytest
from flask import Flask
from PIL import Image
from werkzeug.test import TestResponse

from tests.in_process import Console, logged_in
from tests.peers import approved_stories, go

AUDIENCE_LOG = "stage.night.audience"  # the logger of "ingesting a ... upload" and the removals after a refusal


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° for display
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def uploading(consoles):
    host, moderator = consoles.host(), consoles.moderation()
    go(host), go(host), go(host)  # join, prompt open, wall
    phone = consoles.phone("Ada")
    return consoles, moderator, phone


def upload(phone: Console, kind: str, data: bytes, name: str, record_id: str | None = None, **form) -> TestResponse:
    """The phone's multipart POST, from the phone's own test client (its address)."""
    fields = {"id": record_id or str(uuid.uuid4()), "kind": kind, "prompt": "cape", "device_key": phone.device_key,
              **form, "file": (io.BytesIO(data), name)}
    return phone.client.post("/api/uploads", data=fields, content_type="multipart/form-data")


def data_dir(app: Flask) -> Path:
    return app.extensions["stage.night"].settings.data_dir


def record_count(app: Flask) -> int:
    return app.extensions["stage.store"].query("SELECT COUNT(*) FROM records")[0][0]


def logged(caplog, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records if r.name == AUDIENCE_LOG)


def test_a_photo_is_cleaned_held_back_until_approved_then_shown(app, client, uploading):
    consoles, moderator, phone = uploading
    display = consoles.display()
    record_id = str(uuid.uuid4())
    response = upload(phone, "photo", photo_with_gps(), "IMG_0001.jpg", record_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    record = response.get_json()["record"]
    assert record["kind"] == "photo" and record["status"] == "pending" and record["mime"] == "image/jpeg"
    media_url = record["media"]
    assert client.get(media_url).status_code == 404, "nothing unmoderated reaches a phone or projector"
    preview = logged_in(app, "moderator").get(media_url)
    assert preview.status_code == 200 and preview.headers["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(preview.data))
    assert image.size == (480, 640), "orientation applied"
    assert not image.getexif() and "exif" not in image.info, "EXIF and GPS stripped"
    assert moderator.wait_for("queue_add")["record"]["media"] == record["media"]
    again = upload(phone, "photo", photo_with_gps(), "IMG_0001.jpg", record_id)
    assert again.get_json()["record"]["id"] == record_id
    moderator.call("moderate", {"id": record_id, "decision": "approve"})
    assert display.wait_for("wall_add")["record"]["media"] == record["media"]
    assert client.get(media_url).status_code == 200
    assert record_count(app) == 1


def test_a_media_file_the_disk_lost_is_not_found_not_an_error(app, client, uploading):
    consoles, moderator, phone = uploading
    record_id = str(uuid.uuid4())
    media_url = upload(phone, "photo", photo_with_gps(), "IMG_0002.jpg", record_id).get_json()["record"]["media"]
    moderator.call("moderate", {"id": record_id, "decision": "approve"})
    assert client.get(media_url).status_code == 200
    (Path(app.extensions["stage.night"].settings.data_dir) / media_url.lstrip("/")).unlink()
    assert client.get(media_url).status_code == 404


def test_a_drawing_stays_a_png_with_its_transparency(app, uploading):
    _, _, phone = uploading
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(out, "PNG")
    record = upload(phone, "drawing", out.getvalue(), "drawing.png").get_json()["record"]
    assert record["mime"] == "image/png"
    stored = Image.open(data_dir(app) / "media" / record["media"].removeprefix("/media/"))
    assert stored.mode == "RGBA" and stored.size == (300, 200)


def test_a_webm_clip_is_transcoded_with_progress_while_phones_are_served(app, uploading, tmp_path):
    consoles, _, phone = uploading
    assert shutil.which("ffmpeg"), "make setup installs ffmpeg"
    clip = tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libvpx-vp9", "-c:a", "libopus",
                    "-shortest", str(clip)], check=True, timeout=60)
    other = consoles.phone("Bo")
    response = upload(phone, "clip", clip.read_bytes(), "clip.webm")
    assert response.status_code == 200, response.get_data(as_text=True)
    record = response.get_json()["record"]
    assert record["mime"] == "video/mp4"
    fractions = [phone.wait_for("upload_progress")["fraction"]]
    fractions += [e["fraction"] for e in phone.drain("upload_progress")]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    with av.open(str(data_dir(app) / "media" / record["media"].removeprefix("/media/"))) as container:
        assert {s.codec_context.name for s in container.streams} == {"h264", "aac"}
    assert other.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "Still served."})["ok"]


@pytest.mark.parametrize("kind, data, name, code, status", [
    ("photo", b"", "empty.jpg", "empty", 400),
    ("photo", b"just some text, honestly", "not-a-photo.jpg", "unsupported", 400),
    ("photo", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", "unsupported", 400),
    ("clip", b"\x00\x01garbage" * 100, "clip.mp4", "not_media", 400),
    ("sculpture", b"x", "x.obj", "invalid_payload", 400),
])
def test_bad_uploads_get_a_clear_error_and_store_nothing(app, uploading, kind, data, name, code, status):
    _, _, phone = uploading
    response = upload(phone, kind, data, name)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert record_count(app) == 0
    assert list((data_dir(app) / "media").glob("*.*")) == []


def test_a_huge_canvas_is_refused_from_its_header(uploading):
    _, _, phone = uploading
    out = io.BytesIO()
    Image.new("1", (8000, 8000), 1).save(out, "PNG")  # a few KB that would decode to 64 megapixels
    response = upload(phone, "drawing", out.getvalue(), "drawing.png")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "too_many_pixels"
    assert "megapixels" in response.get_json()["error"]["message"]


def test_unknown_phones_closed_prompts_and_bad_media_names_are_refused(client, uploading):
    # the oversized upload of the same old test stays in the subprocess tier: its body streams over the wire
    _, _, phone = uploading
    stranger = client.post("/api/uploads", data={"id": str(uuid.uuid4()), "kind": "photo", "prompt": "cape",
                                                 "device_key": "x" * 32, "file": (io.BytesIO(photo_with_gps()), "a.jpg")},
                           content_type="multipart/form-data")
    assert stranger.status_code == 403 and stranger.get_json()["error"]["code"] == "unknown_phone"
    closed = upload(phone, "photo", photo_with_gps(), "a.jpg", prompt="nope")
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "prompt_closed"
    assert client.get(f"/media/{'0' * 64}.jpg").status_code == 404
    assert client.get("/media/..%2Fstage.db").status_code == 404


def test_a_long_clip_arrives_flagged_for_the_moderators(uploading, tmp_path):
    _, moderator, phone = uploading
    clip = tmp_path / "long.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=5:duration=31",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True, timeout=60)
    record = upload(phone, "clip", clip.read_bytes(), "long.mp4").get_json()["record"]
    queued = moderator.wait_for("queue_add", lambda d: d["record"]["id"] == record["id"])["record"]
    assert queued["flags"] == ["long clip: 31 s"]


def test_uploads_with_bad_sources_are_refused_before_any_media_is_written(app, uploading, caplog):
    caplog.set_level(logging.INFO, logger=AUDIENCE_LOG)
    consoles, moderator, phone = uploading
    approved = approved_stories(consoles, moderator, 5)
    pending = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": pending, "prompt": "cape", "text": "Not yet."})["ok"]
    cases = [([pending], "source_not_approved"), ([str(uuid.uuid4())], "source_not_approved"),
             ([approved[0], approved[0]], "invalid_payload"), (approved, "invalid_payload")]
    for sources, code in cases:
        response = upload(phone, "photo", photo_with_gps(), "a.jpg", sources=sources)
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == code, (sources, text)
        assert response.get_json()["error"]["message"]
        assert [p.name for p in (data_dir(app) / "media").iterdir()] == [], f"orphan file or temp dir: {sources}"
    assert logged(caplog, "ingesting a photo upload") == 0, "no media worker ran"
    ok = upload(phone, "photo", photo_with_gps(), "a.jpg", sources=approved[:4])
    assert ok.status_code == 200 and sorted(ok.get_json()["record"]["sources"]) == sorted(approved[:4])
    assert logged(caplog, "ingesting a photo upload") == 1, "the log is read: the accepted upload's worker is there"


def test_uploads_the_media_worker_refused_still_count_against_the_limit(uploading, caplog):
    caplog.set_level(logging.INFO, logger=AUDIENCE_LOG)
    _, _, phone = uploading
    for _ in range(6):  # each of these ran a media worker: garbage must not buy unlimited workers
        refused = upload(phone, "photo", b"just some text, honestly", "x.jpg")
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unsupported"
    seventh = upload(phone, "photo", photo_with_gps(), "a.jpg")
    assert seventh.status_code == 429 and seventh.get_json()["error"]["code"] == "rate_limited"
    assert logged(caplog, "ingesting a photo upload") == 6, "the seventh ran no worker"
    closed = upload(phone, "photo", photo_with_gps(), "a.jpg", prompt="nope")
    assert closed.get_json()["error"]["code"] == "prompt_closed", "refused before any work: no slot needed"
