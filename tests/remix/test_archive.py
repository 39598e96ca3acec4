"""``stage export`` / ``stage import`` on a real night while ``stage serve`` holds its data directory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.stage_process import REPO


def stage_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stage", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=180)


def export(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return stage_cli("export", "--data", str(data), "--out", str(out), *extra)


def tables(db_path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db_path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: sorted(map(tuple, db.execute(f"SELECT * FROM {n}")), key=repr) for n in names}


@pytest.fixture
def exported(remix_night, tmp_path):
    night = remix_night
    dropped = night.write_story("Bea", "A story the moderator turns down.")
    night.reject(dropped)
    assert night.phones["Dee"].call("withdraw_consent")["ok"]  # Dee's take must not leave the building
    assert night.phones["Ada"].call("recommend", {"id": night.drawing})["ok"]
    crew = night.peers.crew()  # a story card made on the crew console, approved: a remix with a poster
    job = crew.call("remix_render", {"recipe": {"recipe": "card", "story": night.story, "picture": night.drawing,
                                                "seconds": 2}})
    assert job["ok"], job
    crew.wait_for("remix_done", lambda d: d["job"] == job["job"], timeout=120)
    remix = crew.call("remix_submit", {"job": job["job"]})["record"]
    night.approve(remix["id"])
    night.remix = remix["id"]
    out = tmp_path / "night.zip"
    done = export(night.data, out, "--show", str(night.stage.show))
    assert done.returncode == 0, done.stderr
    assert night.stage.proc.poll() is None, "the server kept running (and serving) during the export"
    return night, out, dropped


def test_the_archive_holds_everything_with_checksums_and_nothing_withheld(exported):
    night, out, dropped = exported
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
        assert names - {"manifest.json"} == set(manifest["files"])
        assert {"records.json", "records.csv", "takes.json", "remixes.json", "lineage.json", "lineage.png",
                "credits.csv", "audit.json", "show.yaml", "report.html", "data/stage.db"} <= names
        records = {r["id"]: r for r in json.loads(archive.read("records.json"))}
        takes = json.loads(archive.read("takes.json"))
        credits = list(csv.DictReader(io.StringIO(archive.read("credits.csv").decode())))
        report = archive.read("report.html").decode()
        remixes = json.loads(archive.read("remixes.json"))
        media = {n.removeprefix("media/") for n in names if n.startswith("media/")}
        assert archive.read("lineage.png").startswith(b"\x89PNG")
    assert dropped not in records and night.takes[1] not in records
    assert [t["record_id"] for t in takes] == [night.takes[0]], "Dee withdrew consent: her take stays out"
    assert {r["media"] for r in records.values() if r["media"]} | {remixes[0]["remix"]["poster"]} == media
    assert {c["name"] for c in credits} == {"Ada", "Bea", "Cy", "stage-left", "Stage crew"}
    assert report.count('src="data:image/png;base64,') == 5 and "Remix tree" in report
    assert "<li>remixes: 1</li>" in report
    assert [r["id"] for r in remixes] == [night.remix]
    assert remixes[0]["remix"]["recipe"]["recipe"] == "card" and remixes[0]["remix"]["poster"] in media
    assert set(records[night.remix]["sources"]) == {night.story, night.drawing}
    with zipfile.ZipFile(out) as archive:
        (Path(out.parent) / "snap.db").write_bytes(archive.read("data/stage.db"))
    leftover = tables(out.parent / "snap.db")
    assert all(dropped not in repr(row) for row in leftover["records"] + leftover["record_sources"])
    assert b"moderator turns down" not in (out.parent / "snap.db").read_bytes(), "vacuumed: no free page keeps it"
    live = sqlite3.connect(night.data / "stage.db")
    hashes = [row[0] for row in live.execute("SELECT device_key_hash FROM participants")]
    live.close()
    assert hashes and all(str(row[1]).startswith("archived:") for row in leftover["participants"])  # (id, hash, ...)
    assert not any(h.encode() in (out.parent / "snap.db").read_bytes() for h in hashes), "no phone's key hash leaves"


def test_include_withheld_keeps_them_and_takes_come_circled_first(remix_night, tmp_path):
    night = remix_night
    assert night.phones["Cy"].call("withdraw_consent")["ok"]
    out = tmp_path / "crew.zip"
    assert export(night.data, out, "--include-withheld").returncode == 0
    with zipfile.ZipFile(out) as archive:
        takes = json.loads(archive.read("takes.json"))
        assert json.loads(archive.read("manifest.json"))["include_withheld"] is True
    assert [t["record_id"] for t in takes] == night.takes, "circled take 1 first, then take 2"


def test_export_into_an_existing_file_needs_force(exported):
    night, out, _ = exported
    before = out.read_bytes()
    refused = export(night.data, out)
    assert refused.returncode == 1 and "already exists; pass --force" in refused.stderr
    assert out.read_bytes() == before
    assert export(night.data, out, "--force").returncode == 0


def test_import_round_trip_is_exact(exported, tmp_path):
    night, out, _ = exported
    target = tmp_path / "restored"
    done = stage_cli("import", str(out), "--data", str(target))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        archive.extract("data/stage.db", tmp_path / "unzipped")
        originals = {n: archive.read(n) for n in archive.namelist() if n.startswith("media/")}
    assert tables(target / "stage.db") == tables(tmp_path / "unzipped" / "data" / "stage.db")
    assert {f"media/{p.name}": p.read_bytes() for p in (target / "media").iterdir()} == originals
    again = tmp_path / "again.zip"
    assert export(target, again).returncode == 0
    with zipfile.ZipFile(out) as first, zipfile.ZipFile(again) as second:
        for name in ("records.json", "takes.json", "remixes.json", "lineage.json", "credits.csv", "audit.json"):
            assert first.read(name) == second.read(name), name


def _rewrite(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        items = {n: old.read(n) for n in old.namelist()}
        for name, data in change(items).items():
            new.writestr(name, data)


def test_import_refuses_a_wrong_checksum_an_escaping_path_and_a_full_directory(exported, tmp_path):
    _, out, _ = exported
    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, lambda items: {**items, "records.json": items["records.json"].replace(b"cape", b"hat")})
    done = stage_cli("import", str(tampered), "--data", str(tmp_path / "a"))
    assert done.returncode == 1 and "does not match its checksum" in done.stderr
    assert not (tmp_path / "a").exists(), "nothing written"

    def escape(items):
        evil = b"owned"
        manifest = json.loads(items["manifest.json"])
        manifest["files"]["media/../../evil.txt"] = hashlib.sha256(evil).hexdigest()
        return {**items, "media/../../evil.txt": evil, "manifest.json": json.dumps(manifest).encode()}

    escaping = tmp_path / "escaping.zip"
    _rewrite(out, escaping, escape)
    done = stage_cli("import", str(escaping), "--data", str(tmp_path / "b" / "data"))
    assert done.returncode == 1 and "escapes its folder" in done.stderr
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "b").exists()

    full = tmp_path / "full"
    full.mkdir()
    (full / "stage.db").write_bytes(b"a night already here")
    done = stage_cli("import", str(out), "--data", str(full))
    assert done.returncode == 1 and "is not empty" in done.stderr
    assert (full / "stage.db").read_bytes() == b"a night already here"


def test_export_of_a_directory_without_a_night_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    done = export(tmp_path / "empty", tmp_path / "night.zip")
    assert done.returncode == 1 and "holds no Stage data" in done.stderr
    assert not (tmp_path / "night.zip").exists()
