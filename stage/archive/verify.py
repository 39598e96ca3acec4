"""Checks an import runs on its unpacked copy, before anything is placed in the data directory:
the database is a Stage database, and every media file is what its name says it is.

The database work (opening it read-only, SQLite's own checks, Stage's reference schema) is
:mod:`stage.records.archive`; this module judges what it reports.

A checksum proves only that the file is the one the manifest lists; whoever wrote the manifest
could have listed garbage with its true sha256. So the database is opened and checked by SQLite
itself, images are decoded with the same bomb guards as phone uploads, and clips are probed.
"""

from __future__ import annotations

from pathlib import Path

from stage.archive.manifest import CLIP_EXTS, IMAGE_EXTS, ArchiveRefused
from stage.errors import StoreError
from stage.media.clips import ClipError, probe_clip
from stage.media.images import ImageError, decode_checked, sniff_format
from stage.records import archive as archive_db
from stage.records.migrations import MIGRATIONS

IMAGE_FORMATS = {"jpg": "JPEG", "png": "PNG"}


def check_database(path: Path) -> None:
    """Opens as SQLite (read-only, so a bad file is never changed), passes integrity_check and has
    exactly the schema Stage's migrations make at its version: no table missing, and nothing extra
    (a trigger or view an archive brought along would run inside ``stage serve`` later)."""
    bad = "data/stage.db is not a Stage database"
    try:
        facts = archive_db.examine(path)
    except StoreError as exc:  # "file is not a database", "database disk image is malformed"
        raise ArchiveRefused(f"{bad}: {exc.message}", code="bad_database") from None
    if facts.integrity != ["ok"]:
        raise ArchiveRefused(f"{bad}: SQLite integrity check failed: {facts.integrity[0]}", code="bad_database")
    version = facts.version
    if version > len(MIGRATIONS):
        raise ArchiveRefused(f"data/stage.db was written by a newer Stage (schema {version}); upgrade Stage",
                             code="bad_database")
    if version < 1:
        raise ArchiveRefused(f"{bad}: it has no Stage schema (version {version})", code="bad_database")
    expected = archive_db.schema_at(version)
    if facts.schema != expected:
        missing = sorted(name for _, name, _ in expected - facts.schema)
        unexpected = sorted(name for _, name, _ in facts.schema - expected)
        raise ArchiveRefused(f"{bad}: its schema differs from Stage's schema {version} (missing or changed: "
                             f"{missing[:5]}, unexpected: {unexpected[:5]})", code="bad_database")


def check_media(path: Path, name: str) -> None:
    """An image decodes as the format its extension names; a clip probes as video or sound."""
    ext = path.suffix.lstrip(".")
    if ext in IMAGE_EXTS:
        _check_image(path, name, IMAGE_FORMATS[ext])
    elif ext in CLIP_EXTS:
        try:
            probe_clip(path)
        except ClipError as exc:
            raise ArchiveRefused(f"{name} is not a clip Stage can play: {exc.message}", code="bad_media") from None
    else:
        raise ArchiveRefused(f"{name} is a kind of media file Stage does not make", code="bad_media")


def _check_image(path: Path, name: str, kind: str) -> None:
    data = path.read_bytes()  # at most the manifest's picture cap (32 MB), already checked
    if sniff_format(data[:64]) != kind:
        raise ArchiveRefused(f"{name} is not a {kind} picture", code="bad_media")
    try:
        decode_checked(data, kind, "picture").close()  # the phone uploads' own bomb guards
    except ImageError as exc:
        raise ArchiveRefused(f"{name}: {exc.message}", code="bad_media") from None
