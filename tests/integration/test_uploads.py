"""Drawings, photos and clips over HTTP through the real server and its ingest worker."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import uuid

import av
import pytest
import requests
from PIL import Image

from tests.peers import go
from tests.waiting import wait_until


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° for display
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def uploading(stage, peers):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join, prompt open, wall
    phone = peers.phone("Ada")
    return stage, peers, moderator, phone


def upload(stage, phone, kind: str, data: bytes, name: str, record_id: str | None = None, **form) -> requests.Response:
    fields = {"id": record_id or str(uuid.uuid4()), "kind": kind, "prompt": "cape", "device_key": phone.device_key, **form}
    return requests.post(f"{stage.url}/api/uploads", data=fields, files={"file": (name, data)}, timeout=60)


def test_a_photo_is_cleaned_held_back_until_approved_then_shown(uploading):
    stage, peers, moderator, phone = uploading
    display = peers.display()
    record_id = str(uuid.uuid4())
    response = upload(stage, phone, "photo", photo_with_gps(), "IMG_0001.jpg", record_id)
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    assert record["kind"] == "photo" and record["status"] == "pending" and record["mime"] == "image/jpeg"
    media_url = f"{stage.url}{record['media']}"
    assert requests.get(media_url).status_code == 404, "nothing unmoderated reaches a phone or projector"
    preview = stage.login("moderator").get(media_url)
    assert preview.status_code == 200 and preview.headers["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(preview.content))
    assert image.size == (480, 640), "orientation applied"
    assert not image.getexif() and "exif" not in image.info, "EXIF and GPS stripped"
    assert moderator.wait_for("queue_add")["record"]["media"] == record["media"]
    again = upload(stage, phone, "photo", photo_with_gps(), "IMG_0001.jpg", record_id)
    assert again.json()["record"]["id"] == record_id
    moderator.call("moderate", {"id": record_id, "decision": "approve"})
    assert display.wait_for("wall_add")["record"]["media"] == record["media"]
    assert requests.get(media_url).status_code == 200
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (1,)


def test_a_drawing_stays_a_png_with_its_transparency(uploading):
    stage, _, _, phone = uploading
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(out, "PNG")
    record = upload(stage, phone, "drawing", out.getvalue(), "drawing.png").json()["record"]
    assert record["mime"] == "image/png"
    stored = Image.open(stage.data_dir / "media" / record["media"].removeprefix("/media/"))
    assert stored.mode == "RGBA" and stored.size == (300, 200)


def test_a_webm_clip_is_transcoded_with_progress_while_phones_are_served(uploading, tmp_path):
    stage, peers, _, phone = uploading
    assert shutil.which("ffmpeg"), "make setup installs ffmpeg"
    clip = tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libvpx-vp9", "-c:a", "libopus",
                    "-shortest", str(clip)], check=True, timeout=60)
    other = peers.phone("Bo")
    response = upload(stage, phone, "clip", clip.read_bytes(), "clip.webm")
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    assert record["mime"] == "video/mp4"
    fractions = [phone.wait_for("upload_progress")["fraction"]]
    fractions += [e["fraction"] for e in phone.drain("upload_progress")]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    with av.open(str(stage.data_dir / "media" / record["media"].removeprefix("/media/"))) as container:
        assert {s.codec_context.name for s in container.streams} == {"h264", "aac"}
    assert other.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "Still served."})["ok"]


@pytest.mark.parametrize("kind, data, name, code, status", [
    ("photo", b"", "empty.jpg", "empty", 400),
    ("photo", b"just some text, honestly", "not-a-photo.jpg", "unsupported", 400),
    ("photo", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", "unsupported", 400),
    ("clip", b"\x00\x01garbage" * 100, "clip.mp4", "not_media", 400),
    ("sculpture", b"x", "x.obj", "invalid_payload", 400),
])
def test_bad_uploads_get_a_clear_error_and_store_nothing(uploading, kind, data, name, code, status):
    stage, _, _, phone = uploading
    response = upload(stage, phone, kind, data, name)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (0,)
    assert list((stage.data_dir / "media").glob("*.*")) == []


def test_a_huge_canvas_is_refused_from_its_header(uploading):
    stage, _, _, phone = uploading
    out = io.BytesIO()
    Image.new("1", (8000, 8000), 1).save(out, "PNG")  # a few KB that would decode to 64 megapixels
    response = upload(stage, phone, "drawing", out.getvalue(), "drawing.png")
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_pixels"
    assert "megapixels" in response.json()["error"]["message"]


def test_oversized_unknown_and_closed_uploads_are_refused(uploading):
    stage, peers, _, phone = uploading
    big = upload(stage, phone, "photo", b"\xff" * (26 * 1024 * 1024), "huge.jpg")
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    stranger = requests.post(f"{stage.url}/api/uploads", data={"id": str(uuid.uuid4()), "kind": "photo",
                             "prompt": "cape", "device_key": "x" * 32}, files={"file": ("a.jpg", photo_with_gps())})
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "unknown_phone"
    closed = upload(stage, phone, "photo", photo_with_gps(), "a.jpg", prompt="nope")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "prompt_closed"
    assert requests.get(f"{stage.url}/media/{'0' * 64}.jpg").status_code == 404
    assert requests.get(f"{stage.url}/media/..%2Fstage.db").status_code == 404


def test_a_long_clip_arrives_flagged_for_the_moderators(uploading, tmp_path):
    stage, _, moderator, phone = uploading
    clip = tmp_path / "long.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=5:duration=31",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True, timeout=60)
    record = upload(stage, phone, "clip", clip.read_bytes(), "long.mp4").json()["record"]
    queued = moderator.wait_for("queue_add", lambda d: d["record"]["id"] == record["id"])["record"]
    assert queued["flags"] == ["long clip: 31 s"]


def vp9_clip(tmp_path) -> bytes:
    clip = tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
                    "-c:v", "libvpx-vp9", str(clip)], check=True, timeout=60)
    return clip.read_bytes()


def test_ten_parallel_uploads_from_one_phone_are_capped_and_counted(uploading, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    stage, _, _, phone = uploading
    clip = vp9_clip(tmp_path)  # a transcode: each worker runs long enough for the others to arrive
    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: upload(stage, phone, "clip", clip, "clip.webm"), range(10)))
    accepted = [r for r in responses if r.status_code == 200]
    refused = [r.json()["error"] for r in responses if r.status_code != 200]
    assert 1 <= len(accepted) <= 6, "never more than the submission limit (6 per 10 s)"
    assert {r.status_code for r in responses} <= {200, 429}
    assert {e["code"] for e in refused} <= {"busy", "rate_limited"} and all(e["message"] for e in refused)
    assert "busy" in {e["code"] for e in refused}, "at most 2 uploads of one phone in flight at once"
    assert stage.log_text().count("uploads in flight; refusing another") == sum(e["code"] == "busy" for e in refused)
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (len(accepted),)


def approved_stories(peers, moderator, count: int) -> list[str]:
    author = peers.phone("Bo")
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for record_id in ids:
        assert author.call("submit_story", {"id": record_id, "prompt": "cape", "text": "A cape."})["ok"]
        assert moderator.call("moderate", {"id": record_id, "decision": "approve"})["ok"]
    return ids


def test_uploads_with_bad_sources_are_refused_before_any_media_is_written(uploading):
    stage, peers, moderator, phone = uploading
    approved = approved_stories(peers, moderator, 5)
    pending = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": pending, "prompt": "cape", "text": "Not yet."})["ok"]
    cases = [([pending], "source_not_approved"), ([str(uuid.uuid4())], "source_not_approved"),
             ([approved[0], approved[0]], "invalid_payload"), (approved, "invalid_payload")]
    for sources, code in cases:
        response = upload(stage, phone, "photo", photo_with_gps(), "a.jpg", sources=sources)
        assert response.status_code == 400 and response.json()["error"]["code"] == code, (sources, response.text)
        assert response.json()["error"]["message"]
        assert [p.name for p in (stage.data_dir / "media").iterdir()] == [], f"orphan file or temp dir: {sources}"
    assert stage.log_text().count("ingesting a photo upload") == 0, "no media worker ran"
    ok = upload(stage, phone, "photo", photo_with_gps(), "a.jpg", sources=approved[:4])
    assert ok.status_code == 200 and sorted(ok.json()["record"]["sources"]) == sorted(approved[:4])


def test_uploads_the_media_worker_refused_still_count_against_the_limit(uploading):
    stage, _, _, phone = uploading
    for _ in range(6):  # each of these ran a media worker: garbage must not buy unlimited workers
        refused = upload(stage, phone, "photo", b"just some text, honestly", "x.jpg")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "unsupported"
    seventh = upload(stage, phone, "photo", photo_with_gps(), "a.jpg")
    assert seventh.status_code == 429 and seventh.json()["error"]["code"] == "rate_limited"
    assert stage.log_text().count("ingesting a photo upload") == 6, "the seventh ran no worker"
    closed = upload(stage, phone, "photo", photo_with_gps(), "a.jpg", prompt="nope")
    assert closed.json()["error"]["code"] == "prompt_closed", "refused before any work: no slot needed"


def test_an_upload_whose_source_is_rejected_during_its_ingest_leaves_no_file(uploading, tmp_path):
    stage, peers, moderator, phone = uploading
    (source,) = approved_stories(peers, moderator, 1)
    clip = tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
                    "-c:v", "libvpx-vp9", "-deadline", "realtime", str(clip)], check=True, timeout=60)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(upload, stage, phone, "clip", clip.read_bytes(), "clip.webm", sources=[source])
        phone.wait_for("upload_progress", timeout=30)  # the worker is transcoding: the source goes now
        assert moderator.call("moderate", {"id": source, "decision": "reject"})["ok"]
        response = sent.result(timeout=60)
    assert response.status_code == 400 and response.json()["error"]["code"] == "source_not_approved"
    assert [p.name for p in (stage.data_dir / "media").iterdir()] == [], "the transcoded clip was removed again"
    assert "its upload was refused after it was ingested" in stage.log_text()


def test_parallel_uploads_from_several_phones_share_a_server_wide_worker_cap(uploading, tmp_path):
    import re
    from concurrent.futures import ThreadPoolExecutor

    from stage.phone_limits import MEDIA_WORKERS  # the server-wide cap (docs/operations.md)

    stage, peers, _, first = uploading
    phones = [first] + [peers.phone(f"Phone {i}") for i in range(MEDIA_WORKERS)]  # each under its own cap of 2
    clip = vp9_clip(tmp_path)

    def send(phone) -> tuple[requests.Response, int]:
        record_id, answers = str(uuid.uuid4()), []

        def answered() -> bool:  # what the phone's outbox does with busy: retry the same id, 0.2 s apart
            answers.append(upload(stage, phone, "clip", clip, "clip.webm", record_id=record_id))
            if answers[-1].status_code == 429:
                assert answers[-1].json()["error"]["code"] == "busy", answers[-1].text
                return False
            return True

        wait_until(answered, 120, what="an upload past busy", every=0.2)
        return answers[-1], len(answers) - 1

    with ThreadPoolExecutor(2 * len(phones)) as pool:
        results = list(pool.map(send, [phone for phone in phones for _ in range(2)]))
    assert all(r.status_code == 200 for r, _ in results), [r.text for r, _ in results if r.status_code != 200]
    assert sum(refusals for _, refusals in results) >= 1, "more uploads than workers: some were told busy"
    ingested = re.findall(r"ingesting a clip upload for record (\S+) ", stage.log_text())
    assert sorted(ingested) == sorted(set(ingested)) and len(ingested) == len(results), "one worker per upload"
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (len(results),), "none lost after retry"
