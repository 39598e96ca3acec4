"""The host console's archive of the night and its door poster, on a real `stage serve`: who may use
them, one export at a time, its progress over Socket.IO, and the zip `stage export` would make."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile

import requests

from stage.archive.manifest import read_manifest
from tests.peers import go
from tests.waiting import wait_until

ARCHIVE_ROUTES = (("POST", "/host/archive"), ("GET", "/host/archive"), ("GET", "/host/archive/night.zip"))


def test_only_a_host_login_reaches_the_archive_and_the_poster(stage, peers):
    phone = peers.phone("Ada")  # a phone has a device key, never a console session
    assert phone.participant
    strangers = {"no session": requests.Session(), "moderator": stage.login("moderator"), "crew": stage.login("crew")}
    ended = stage.login("host")
    copy = dict(ended.cookies)
    assert ended.post(f"{stage.url}/logout", allow_redirects=False).status_code == 302
    strangers["a logged-out host's cookie"] = requests.Session()
    strangers["a logged-out host's cookie"].cookies.update(copy)
    for who, session in strangers.items():
        for method, path in ARCHIVE_ROUTES:
            answer = session.request(method, f"{stage.url}{path}", allow_redirects=False)
            assert answer.status_code == 403, (who, method, path, answer.status_code)
            assert answer.json()["error"]["code"] == "forbidden"
        poster = session.get(f"{stage.url}/host/poster", allow_redirects=False)
        assert poster.status_code == 302, (who, poster.status_code)
        assert poster.headers["Location"].endswith("/login/host")
    assert not (stage.data_dir / "exports").exists(), "a refused request started an export"

    host = stage.login("host")
    assert host.get(f"{stage.url}/host/archive").json()["progress"]["state"] == "idle"
    for name in ("..%2Fstage.db", ".hidden.zip", "stage.db", "nothing-yet.zip"):
        assert host.get(f"{stage.url}/host/archive/{name}").status_code == 404, name
    poster = host.get(f"{stage.url}/host/poster?paper=letter")
    assert poster.status_code == 200 and "paper-letter" in poster.text
    assert "Content-Security-Policy" in poster.headers


def test_the_host_exports_the_night_once_a_second_request_joins_and_the_zip_downloads(stage, peers):
    console, moderator = peers.host(), peers.moderation()
    go(console), go(console)  # the join scene, then the prompt opens
    ada = peers.phone("Ada")
    story = str(uuid.uuid4())
    assert ada.call("submit_story", {"id": story, "prompt": "cape", "text": "A cape kept for the archive."})["ok"]
    moderator.wait_for("queue_add")
    assert moderator.call("moderate", {"id": story, "decision": "approve"})["ok"]

    host = stage.login("host")
    first = host.post(f"{stage.url}/host/archive")
    second = host.post(f"{stage.url}/host/archive")  # at once: the export is still running, so this joins it
    assert first.status_code == second.status_code == 202
    assert first.json()["started"] is True and second.json()["started"] is False
    name = first.json()["progress"]["file"]
    assert second.json()["progress"]["file"] == name and name.startswith("tiny-stories-") and name.endswith(".zip")

    started = console.wait_for("archive_progress")  # every host console hears of it, not only the one asking
    assert started["state"] == "running" and started["file"] == name
    ready = console.wait_for("archive_progress", lambda p: p["state"] == "ready", timeout=120)
    assert ready["file"] == name and ready["ready_url"] == f"/host/archive/{name}" and ready["size"] > 0
    state = wait_until(lambda: host.get(f"{stage.url}/host/archive").json()["progress"], what="progress")
    assert state["state"] == "ready" and state["file"] == name

    answer = host.get(f"{stage.url}{ready['ready_url']}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/zip"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and name in disposition
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        manifest = read_manifest(archive)
        for member, digest in manifest.files.items():
            assert hashlib.sha256(archive.read(member)).hexdigest() == digest, member
        records = json.loads(archive.read("records.json"))
        assert "show.yaml" in manifest.files
    assert [r["text"] for r in records if r["id"] == story] == ["A cape kept for the archive."]
    audit = console.call("audit", {"action": "export"})["entries"]
    assert [e["subject"] for e in audit] == [name]  # the join was not a second export
    assert sorted(p.name for p in (stage.data_dir / "exports").iterdir()) == [name], "progress files are cleaned up"
