"""``stage export`` / ``stage import`` on a real night while ``stage serve`` holds its data directory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stage.records.migrations import MIGRATIONS

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
    assert {c["name"]: c["roles"] for c in credits} == {"Ada": "wrote", "Bea": "drew", "Cy": "performed",
                                                        "Sam": "filmed", "Stage crew": "remix"}, "people, not rigs"
    assert records[night.remix]["credits"] == [{"name": "Ada", "role": "wrote"}, {"name": "Bea", "role": "drew"},
                                               {"name": "Stage crew", "role": "remix"}]
    # The report's own tests are tests/integration/test_report_page.py: here, that it is this night's.
    assert report.count('src="data:image/svg+xml;base64,') == 2 and "<dt>remix</dt><dd>1</dd>" in report
    assert "<dt>take</dt><dd>1</dd>" in report, "Dee withdrew consent: the report leaves her take out too"
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


def test_a_night_goes_sqlite_to_postgresql_to_sqlite_exactly(exported, tmp_path, postgres, request):
    """Moving a night between backends (issue 16): the archive of a SQLite night imported into PostgreSQL,
    exported from there and imported into SQLite again is the same night, record by record and file by file."""
    night, out, _ = exported
    url = postgres.fresh_database()
    request.addfinalizer(lambda: postgres.drop(url))
    media_dir = tmp_path / "pg-media"
    done = stage_cli("import", str(out), "--data", str(media_dir), "--database", url)
    assert done.returncode == 0, done.stderr
    assert not (media_dir / "stage.db").exists(), "the night's rows went into PostgreSQL, not into a file"
    from_pg = tmp_path / "from-postgresql.zip"
    done = stage_cli("export", "--data", str(media_dir), "--database", url, "--out", str(from_pg))
    assert done.returncode == 0, done.stderr
    back = tmp_path / "back-in-sqlite"
    assert stage_cli("import", str(from_pg), "--data", str(back)).returncode == 0
    with zipfile.ZipFile(out) as archive:
        archive.extract("data/stage.db", tmp_path / "unzipped")
        media = {n: archive.read(n) for n in archive.namelist() if n.startswith("media/")}
    original = tables(tmp_path / "unzipped" / "data" / "stage.db")
    assert sum(len(rows) for rows in original.values()) > 30, "a night with something in it"
    assert tables(back / "stage.db") == original
    assert {f"media/{p.name}": p.read_bytes() for p in (back / "media").iterdir()} == media
    with zipfile.ZipFile(out) as first, zipfile.ZipFile(from_pg) as second:
        assert {n for n in second.namelist() if n.startswith("media/")} == set(media)
        for name in ("records.json", "takes.json", "remixes.json", "lineage.json", "credits.csv", "audit.json"):
            assert first.read(name) == second.read(name), name
    again = stage_cli("import", str(out), "--data", str(tmp_path / "twice"), "--database", url)
    assert again.returncode == 1 and "already holds a night" in again.stderr


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


# Hostile archives (issue 14, finding 9). They are built here, file by file, in the format
# stage.archive.export writes (no server needed): a real Stage database, a real picture, a manifest.

ZEROS = bytes(1 << 20)


def picture() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 60)).save(out, "JPEG")
    return out.getvalue()


def stage_db(tmp_path: Path) -> bytes:
    from stage.records.sqlite_store import SqliteStore

    path = tmp_path / "made" / "stage.db"
    SqliteStore(path).close()
    return path.read_bytes()


def zeros_sha256(size: int) -> str:
    digest = hashlib.sha256()
    for _ in range(size // len(ZEROS)):
        digest.update(ZEROS)
    return digest.hexdigest()


def write_archive(path: Path, members: dict[str, bytes], *, manifest: dict | None = None,
                  zeros: dict[str, int] | None = None) -> dict:
    """``members`` as they are; ``zeros`` maps an extension to a media file of that many zero bytes,
    named by its real sha256 as Stage names media, and streamed (never held in memory)."""
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    sizes = {name: len(data) for name, data in members.items()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for ext, size in (zeros or {}).items():
            digest = zeros_sha256(size)
            name = f"media/{digest}.{ext}"
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as out:
                for _ in range(size // len(ZEROS)):
                    out.write(ZEROS)
            sums[name], sizes[name] = digest, size
        body = {"stage": "test", "created_at": 0.0, "include_withheld": False, "withheld_left_out": 0,
                "files": sums, "sizes": sizes, **(manifest or {})}
        archive.writestr("manifest.json", json.dumps(body))
    return body


def good_members(tmp_path: Path) -> dict[str, bytes]:
    jpeg = picture()
    return {"data/stage.db": stage_db(tmp_path), "records.json": b"[]",
            f"media/{hashlib.sha256(jpeg).hexdigest()}.jpg": jpeg}


def refused(archive: Path, target: Path, message: str) -> None:
    """Exit 1 with one line naming the cause, no traceback, and nothing left beside or in the target."""
    before = sorted(p.name for p in target.parent.iterdir()) if target.parent.exists() else None
    done = stage_cli("import", str(archive), "--data", str(target))
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and message in done.stderr, done.stderr
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("stage: ")]
    assert message in line
    assert not target.exists(), "nothing written"
    after = sorted(p.name for p in target.parent.iterdir()) if target.parent.exists() else None
    assert after == before, "no staging directory left behind"


def test_a_good_hand_made_archive_imports(tmp_path):
    members = good_members(tmp_path)
    write_archive(tmp_path / "good.zip", members)
    done = stage_cli("import", str(tmp_path / "good.zip"), "--data", str(tmp_path / "night" / "data"))
    assert done.returncode == 0, done.stderr
    media = [n for n in members if n.startswith("media/")]
    assert [f"media/{p.name}" for p in (tmp_path / "night" / "data" / "media").iterdir()] == media
    assert (tmp_path / "night" / "data" / "stage.db").read_bytes()[:16] == b"SQLite format 3\x00"


@pytest.mark.timeout(120)
def test_a_zip_bomb_is_refused_from_its_declared_sizes_with_nothing_written(tmp_path):
    members = {n: d for n, d in good_members(tmp_path).items() if not n.startswith("media/")}
    bomb = tmp_path / "bomb.zip"
    # 1.1 GB of zeros as a photo, listed with its real sha256, in an archive of about 1 MB.
    body = write_archive(bomb, members, zeros={"jpg": 1100 * len(ZEROS)})
    assert bomb.stat().st_size < 2 * 1024 * 1024
    [photo] = [n for n in body["files"] if n.startswith("media/")]
    refused(bomb, tmp_path / "night", f"{photo} is 1100 MB; the limit for it is 32 MB")


def test_a_clip_that_unpacks_a_thousand_times_its_size_is_refused(tmp_path):
    members = good_members(tmp_path)
    archive = tmp_path / "ratio.zip"
    write_archive(archive, members, zeros={"mp4": 64 * len(ZEROS)})
    refused(archive, tmp_path / "night", "more than 100 times; Stage does not make such files (a zip bomb?)")


def test_many_small_members_that_add_up_to_a_bomb_are_refused(tmp_path):
    members = good_members(tmp_path)
    members.update({f"media/{i:064x}.mp4": ZEROS for i in range(40)})  # each at the per-member floor
    write_archive(tmp_path / "many.zip", members)
    refused(tmp_path / "many.zip", tmp_path / "night", "more than 100 times; Stage does not make such archives")


def test_a_garbage_database_is_refused_before_anything_is_written_and_a_retry_works(tmp_path):
    members = good_members(tmp_path)
    garbage = tmp_path / "garbage.zip"
    write_archive(garbage, {**members, "data/stage.db": b"SQLite format 3\x00" + b"\x17" * 8192})
    target = tmp_path / "night"
    refused(garbage, target, "data/stage.db is not a Stage database")
    empty_sqlite = tmp_path / "empty.db"
    sqlite3.connect(empty_sqlite).close()
    sqlite3.connect(empty_sqlite).execute("CREATE TABLE notes (x)").connection.commit()
    write_archive(garbage, {**members, "data/stage.db": empty_sqlite.read_bytes()})
    refused(garbage, target, "data/stage.db is not a Stage database: it has no Stage schema (version 0)")
    sneaky = tmp_path / "sneaky.db"
    sneaky.write_bytes(members["data/stage.db"])
    db = sqlite3.connect(sneaky)  # a real night's schema plus a trigger of the archive's own
    db.execute("CREATE TRIGGER wipe AFTER INSERT ON records BEGIN DELETE FROM records; END")
    db.commit()
    db.close()  # the last connection checkpoints the WAL into the file
    write_archive(garbage, {**members, "data/stage.db": sneaky.read_bytes()})
    refused(garbage, target, f"its schema differs from Stage's schema {len(MIGRATIONS)} "
                             "(missing or changed: [], unexpected: ['wipe'])")
    write_archive(tmp_path / "good.zip", members)
    done = stage_cli("import", str(tmp_path / "good.zip"), "--data", str(target))
    assert done.returncode == 0, done.stderr
    assert "0 records, 1 media files imported" in done.stdout


def test_media_that_is_not_what_its_name_says_is_refused(tmp_path):
    members = good_members(tmp_path)
    fake = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    write_archive(tmp_path / "fake.zip", {**members, f"media/{hashlib.sha256(fake).hexdigest()}.jpg": fake})
    refused(tmp_path / "fake.zip", tmp_path / "night", "is not a JPEG picture")
    clip = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
    write_archive(tmp_path / "clip.zip", {**members, f"media/{hashlib.sha256(clip).hexdigest()}.mp4": clip})
    refused(tmp_path / "clip.zip", tmp_path / "night", "is not a clip Stage can play")
    jpeg = picture()
    write_archive(tmp_path / "named.zip", {**members, f"media/{'d' * 64}.jpg": jpeg})
    refused(tmp_path / "named.zip", tmp_path / "night", f"media/{'d' * 64}.jpg holds other content than its name")


@pytest.mark.parametrize("files, message", [
    ([["data/stage.db", "0" * 64]], "manifest.json: files: Input should be an object"),
    ({"data/stage.db": 7}, "manifest.json: files.data/stage.db: Input should be a valid string"),
    ({"data/stage.db": "not-a-sha"}, "manifest.json: files.data/stage.db: String should match pattern"),
])
def test_a_manifest_of_the_wrong_shape_is_a_clear_error(tmp_path, files, message):
    write_archive(tmp_path / "odd.zip", good_members(tmp_path), manifest={"files": files})
    refused(tmp_path / "odd.zip", tmp_path / "night", message)


def test_a_member_larger_than_the_manifest_says_is_refused(tmp_path):
    members = good_members(tmp_path)
    archive = tmp_path / "liar.zip"
    body = write_archive(archive, members)
    sizes = {**body["sizes"], "records.json": 1}
    write_archive(archive, members, manifest={"sizes": sizes})
    refused(archive, tmp_path / "night",
            "records.json does not match its checksum and size in the manifest (2 bytes in the zip, 1 listed)")


def test_a_member_longer_than_the_zip_directory_says_is_stopped_while_unpacking(tmp_path):
    """The zip's own directory lies too (manifest and directory agree on 1 KiB; the data is 64 KiB)."""
    members = good_members(tmp_path)
    clip_name = f"media/{'c' * 64}.mp4"
    archive = tmp_path / "liar.zip"
    body = write_archive(archive, {**members, clip_name: b"\x01" * 65536})
    write_archive(archive, {**members, clip_name: b"\x01" * 65536}, manifest={"sizes": {**body["sizes"],
                                                                                         clip_name: 1024}})
    raw = bytearray(archive.read_bytes())
    entry = raw.index(b"PK\x01\x02")  # the first central directory entry
    while True:  # find the central directory entry of the clip and make it claim 1 KiB
        name_len = int.from_bytes(raw[entry + 28:entry + 30], "little")
        name = bytes(raw[entry + 46:entry + 46 + name_len]).decode()
        if name == clip_name:
            raw[entry + 24:entry + 28] = (1024).to_bytes(4, "little")
            break
        extra = int.from_bytes(raw[entry + 30:entry + 32], "little")
        comment = int.from_bytes(raw[entry + 32:entry + 34], "little")
        entry += 46 + name_len + extra + comment
    archive.write_bytes(bytes(raw))
    assert zipfile.ZipFile(archive).getinfo(clip_name).file_size == 1024
    refused(archive, tmp_path / "night", f"{clip_name} cannot be unpacked (the archive is damaged)")


def test_import_of_a_missing_archive_or_into_a_file_is_one_line(tmp_path):
    done = stage_cli("import", str(tmp_path / "nope.zip"), "--data", str(tmp_path / "night"))
    assert done.returncode == 1 and "is not a Stage archive" in done.stderr and "Traceback" not in done.stderr
    write_archive(tmp_path / "good.zip", good_members(tmp_path))
    (tmp_path / "afile").write_text("x")
    done = stage_cli("import", str(tmp_path / "good.zip"), "--data", str(tmp_path / "afile"))
    assert done.returncode == 1 and "is not empty" in done.stderr


def test_import_into_an_empty_directory_or_through_a_symlink_keeps_them(tmp_path):
    write_archive(tmp_path / "good.zip", good_members(tmp_path))
    real = tmp_path / "disk" / "night"
    real.mkdir(parents=True)
    link = tmp_path / "night"
    link.symlink_to(real)
    done = stage_cli("import", str(tmp_path / "good.zip"), "--data", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and (real / "stage.db").is_file() and len(list((real / "media").iterdir())) == 1
    mask = os.umask(0o022)
    os.umask(mask)
    assert real.stat().st_mode & 0o777 == 0o777 & ~mask, "the mode mkdir gives, not mkdtemp's 0700"
    assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == ["night"], "no staging directory left"
