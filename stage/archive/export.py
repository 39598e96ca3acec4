"""``stage export``: the night as one zip, for the crew to keep and remix after the show.

It works from a snapshot (see :mod:`stage.records.archive`, which also scrubs it), so ``stage serve`` can keep running.
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
from stage.book.in_archive import files as book_files
from stage.errors import StageError
from stage.records import archive as archive_db, credits, lineage as lineage_module
from stage.records.archive import Snapshot

log = logging.getLogger(__name__)
Step = Callable[[str, int, int], None]  # (what, done, total)
RECORD_FIELDS = ("id", "kind", "status", "author", "text", "media", "prompt_id", "created_at", "sources")


class ExportError(StageError):
    code = "export"


def export(data_dir: Path, out: Path, *, force: bool = False, include_withheld: bool = False,
           show: Path | None = None, step: Step = lambda what, done, total: None,
           database: str | None = None) -> dict[str, Any]:
    """``database``: the night's PostgreSQL URL (its media are still in ``data_dir``); None: SQLite in ``data_dir``."""
    out = Path(out)
    if out.exists() and not force:
        raise ExportError(f"{out} already exists; pass --force to replace it", code="exists")
    with tempfile.TemporaryDirectory(prefix="stage-export-") as work:
        db_copy = Path(work) / "stage.db"
        snapshot = Snapshot(data_dir, copy_to=db_copy, database=database)
        try:
            step("snapshot", 0, 1)
            withheld = archive_db.scrub_for_export(snapshot, keep_withheld=include_withheld)
            return _write(snapshot, db_copy, Path(data_dir), out, include_withheld, withheld, show, step)
        finally:
            snapshot.close()


def _write(snapshot: Snapshot, db_copy: Path, data_dir: Path, out: Path, include_withheld: bool,
           withheld: list[str], show: Path | None, step: Step) -> dict[str, Any]:
    lineage = lineage_module.load(snapshot, include_withheld=include_withheld)
    roll = credits.roll(snapshot)  # with --include-withheld too: credits name only people who may be credited
    records = [_record(row, lineage) for row in archive_db.records_for_export(snapshot)]
    media = sorted({r["media"] for r in records if r["media"]} | archive_db.remix_posters(snapshot))
    files: dict[str, bytes | Path] = {}
    files["data/stage.db"] = db_copy
    files["records.json"] = _json(records)
    files["records.csv"] = _csv(records, RECORD_FIELDS)
    files["takes.json"] = _json(archive_db.takes_for_export(snapshot))
    remixes = [{**r, "remix": archive_db.remix_details(snapshot, r["id"])} for r in records if r["kind"] == "remix"]
    files["remixes.json"] = _json(remixes)
    graph = lineage.whole()
    files["lineage.json"] = _json(graph)
    files["lineage.png"] = charts.lineage_picture(graph)
    files["credits.csv"] = _csv([{**p, "roles": "; ".join(p["roles"])} for p in roll], ("name", "roles", "records"))
    files["audit.json"] = _json(archive_db.audit_for_export(snapshot))
    if show is not None:
        files["show.yaml"] = Path(show)
    title = Path(show).stem if show else "Stage night"
    step("report", 0, 1)
    files["report.html"] = report.build(snapshot, lineage, title, roll, show=show).encode()
    files.update(book_files(snapshot, data_dir))  # the night's book, when the crew began one (stage/book/)
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


def _record(row: sqlite3.Row, lineage: lineage_module.Lineage) -> dict[str, Any]:
    out = {k: row[k] for k in RECORD_FIELDS if k != "sources"}
    out["sources"] = lineage.sources.get(row["id"], [])
    # Who made it, in the words of every other credit (credits.ROLES); records.csv keeps its columns.
    out["credits"] = credits.in_lineage(lineage, row["id"]) if row["id"] in lineage.nodes else [
        {"name": row["author"], "role": "wrote"}]  # a comment (lineage leaves comments out)
    return out


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode()


def _csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items() if k in fields})
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
