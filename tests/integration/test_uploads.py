"""Uploads over HTTP through the real server and its ingest worker, for what needs it: a body streamed
over the wire, and uploads in flight at the same time (each in its own greenlet of the gevent server, the
worker waited on cooperatively). The rest run in process (tests/app/test_uploads.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import uuid

import pytest
import requests

from tests.peers import approved_stories, go
from tests.waiting import wait_until


@pytest.fixture
def uploading(stage, peers):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join, prompt open, wall
    phone = peers.phone("Ada")
    return stage, peers, moderator, phone


def upload(stage, phone, kind: str, data: bytes, name: str, record_id: str | None = None, **form) -> requests.Response:
    fields = {"id": record_id or str(uuid.uuid4()), "kind": kind, "prompt": "cape", "device_key": phone.device_key, **form}
    return requests.post(f"{stage.url}/api/uploads", data=fields, files={"file": (name, data)}, timeout=60)


def test_an_oversized_upload_is_refused(uploading):
    # its body streams to the real server; the rest of the old test runs in process
    # (tests/app/test_uploads.py::test_unknown_phones_closed_prompts_and_bad_media_names_are_refused)
    stage, _, _, phone = uploading
    big = upload(stage, phone, "photo", b"\xff" * (26 * 1024 * 1024), "huge.jpg")
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"


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
