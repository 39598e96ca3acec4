"""``stage export``: the night as one zip, for the crew to keep and remix after the show.

It works from a snapshot (see :mod:`stage.archive.snapshot`), so ``stage serve`` can keep running.
Withheld records (rejected, withdrawn, pending, rehearsal phones', deleted takes, takes of a
performer who withdrew consent, remixes built on any of those) are deleted from the snapshot and
the snapshot is vacuumed, so not even SQLite's free pages still hold them, unless ``include_withheld``.
The zip is written beside ``out`` and renamed when complete; ``manifest.json`` lists the sha256 and
the size of every other file in it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage import __version__
from stage.archive import charts, report
from stage.archive.snapshot import Snapshot
from stage.errors import StageError
from stage.records import credits, lineage as lineage_module

log = logging.getLogger(__name__)
Step = Callable[[str, int, int], None]  # (what, done, total)
RECORD_FIELDS = ("id", "kind", "status", "author", "text", "media", "prompt_id", "created_at", "sources")


class ExportError(StageError):
    code = "export"


def export(data_dir: Path, out: Path, *, force: bool = False, include_withheld: bool = False,
           show: Path | None = None, step: Step = lambda what, done, total: None) -> dict[str, Any]:
    out = Path(out)
    if out.exists() and not force:
        raise ExportError(f"{out} already exists; pass --force to replace it", code="exists")
    with tempfile.TemporaryDirectory(prefix="stage-export-") as work:
        db_copy = Path(work) / "stage.db"
        snapshot = Snapshot(data_dir, copy_to=db_copy)
        try:
            step("snapshot", 0, 1)
            withheld = _drop_withheld(snapshot.db) if not include_withheld else []
            _forget_private(snapshot.db)
            return _write(snapshot, db_copy, Path(data_dir), out, include_withheld, withheld, show, step)
        finally:
            snapshot.close()


def _drop_withheld(db: sqlite3.Connection) -> list[str]:
    lineage = lineage_module.load(_Rows(db))
    ids = {i for i, n in lineage.nodes.items() if n.withheld}
    ids |= {r[0] for r in db.execute(
        "SELECT c.id FROM records c LEFT JOIN participants p ON p.id = c.participant_id WHERE c.kind = 'comment'"
        " AND (c.status != 'approved' OR p.simulated = 1)")}
    # A comment goes with what it is on.
    ids |= {r[0] for r in db.execute("SELECT s.record_id, s.source_id FROM record_sources s"
                                     " JOIN records c ON c.id = s.record_id WHERE c.kind = 'comment'")
            if r[1] in ids}
    marks = [(i,) for i in ids]
    db.execute("PRAGMA foreign_keys=OFF")
    db.executemany("DELETE FROM record_sources WHERE record_id = ? OR source_id = ?", [(i, i) for i in ids])
    db.executemany("DELETE FROM takes WHERE record_id = ?", marks)
    db.executemany("DELETE FROM recommendations WHERE record_id = ?", marks)
    db.executemany("UPDATE volunteers SET story_id = NULL WHERE story_id = ?", marks)
    db.executemany("DELETE FROM state WHERE key = 'remix.' || ?", marks)
    db.executemany("DELETE FROM records WHERE id = ?", marks)
    db.commit()  # _forget_private, always next, vacuums these rows out of the file's free pages too
    return sorted(ids)


def _forget_private(db: sqlite3.Connection) -> None:
    """An archive is for remixing, not for recognising phones: the hash of each phone's device key
    (which would let a later server tie a returning phone to its old records) does not leave the venue,
    nor do the slates of takes that were started and never stored (performer names, story text)."""
    db.execute("UPDATE participants SET device_key_hash = 'archived:' || id")
    db.execute("DELETE FROM state WHERE key LIKE 'take.started.%'")
    db.commit()
    db.execute("VACUUM")  # old values (and withheld rows) must not survive in free pages of the copied file


class _Rows:
    """``query`` over a plain connection (what lineage and credits read)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def query(self, sql: str, params: tuple | dict = ()) -> list[Any]:
        return self.db.execute(sql, params).fetchall()


def _write(snapshot: Snapshot, db_copy: Path, data_dir: Path, out: Path, include_withheld: bool,
           withheld: list[str], show: Path | None, step: Step) -> dict[str, Any]:
    store = _Rows(snapshot.db)
    lineage = lineage_module.load(store, include_withheld=include_withheld)
    roll = credits.roll(store)  # with --include-withheld too: credits name only people who may be credited
    records = [_record(row, lineage) for row in store.query(
        "SELECT r.*, COALESCE(r.author_name, r.crew_author) AS author FROM records r ORDER BY r.created_at, r.id")]
    media = sorted({r["media"] for r in records if r["media"]} | _posters(store))
    files: dict[str, bytes | Path] = {}
    files["data/stage.db"] = db_copy
    files["records.json"] = _json(records)
    files["records.csv"] = _csv(records, RECORD_FIELDS)
    takes = [dict(r) for r in store.query(
        "SELECT t.*, r.media FROM takes t JOIN records r ON r.id = t.record_id"
        " ORDER BY t.circled DESC, t.story_id, t.number, t.created_at")]
    files["takes.json"] = _json(takes)
    remixes = [{**r, "remix": json.loads((store.query("SELECT value FROM state WHERE key = ?",
                                                      (f"remix.{r['id']}",)) or [{"value": "null"}])[0]["value"])}
               for r in records if r["kind"] == "remix"]
    files["remixes.json"] = _json(remixes)
    graph = lineage.whole()
    files["lineage.json"] = _json(graph)
    files["lineage.png"] = charts.lineage_picture(graph)
    files["credits.csv"] = _csv([{**p, "roles": "; ".join(p["roles"])} for p in roll], ("name", "roles", "records"))
    files["audit.json"] = _json([dict(r) for r in store.query("SELECT * FROM audit ORDER BY seq")])
    if show is not None:
        files["show.yaml"] = Path(show)
    title = Path(show).stem if show else "Stage night"
    step("report", 0, 1)
    files["report.html"] = report.build(store, lineage, title, roll).encode()
    for name in media:
        path = data_dir / "media" / name
        if path.is_file():
            files[f"media/{name}"] = path
        else:
            log.warning("export: media file %s is missing from %s; left out", name, data_dir)
    fd, tmp = tempfile.mkstemp(dir=out.parent if out.parent.exists() else None, prefix=f".{out.name}.", suffix=".part")
    os.close(fd)
    sums: dict[str, str] = {}
    sizes: dict[str, int] = {}
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, (name, content) in enumerate(files.items(), start=1):
                sums[name], sizes[name] = _add(archive, name, content)
                step(name, done, len(files) + 1)
            manifest = {"stage": __version__, "created_at": time.time(), "include_withheld": include_withheld,
                        "withheld_left_out": len(withheld), "files": sums, "sizes": sizes}
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    step("manifest.json", len(files) + 1, len(files) + 1)
    log.info("exported %s: %d records, %d media files, %d withheld left out", out, len(records), len(media),
             len(withheld))
    return {"records": len(records), "media": len(media), "withheld": len(withheld), "files": len(sums) + 1}


def _posters(store: _Rows) -> set[str]:
    out = set()
    for row in store.query("SELECT value FROM state WHERE key LIKE 'remix.%'"):
        poster = (json.loads(row["value"]) or {}).get("poster")
        if poster:
            out.add(poster)
    return out


def _record(row: sqlite3.Row, lineage: lineage_module.Lineage) -> dict[str, Any]:
    out = {k: row[k] for k in RECORD_FIELDS if k != "sources"}
    out["sources"] = lineage.sources.get(row["id"], [])
    return out


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode()


def _csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return text.getvalue().encode()


def _add(archive: zipfile.ZipFile, name: str, content: bytes | Path) -> tuple[str, int]:
    """Write one member; its sha256 and size go in the manifest (import holds the member to both)."""
    digest = hashlib.sha256()
    if isinstance(content, bytes):
        digest.update(content)
        archive.writestr(name, content)
        return digest.hexdigest(), len(content)
    info = zipfile.ZipInfo(name, time.localtime(Path(content).stat().st_mtime)[:6])
    # Media are already compressed (JPEG, PNG, H.264): storing them saves minutes of deflate.
    info.compress_type = zipfile.ZIP_STORED if name.startswith("media/") else zipfile.ZIP_DEFLATED
    size = 0
    with open(content, "rb") as source, archive.open(info, "w") as target:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
