"""``stage import ARCHIVE --data EMPTY_DIR``: load an exported night back into a new data directory.

Everything is checked before anything is placed in the data directory:

1. the data directory is new or empty; every path stays in the archive's folder; ``manifest.json``
   has the right shape (:mod:`stage.archive.manifest`) and lists exactly the archive's files;
2. every member's size, as the manifest and the zip's directory declare it, is within its cap and
   its compression ratio is one Stage's exports have (a zip bomb stops here, nothing unpacked);
3. members are unpacked into a staging directory beside the target, counting bytes as they stream:
   a member longer than it declared is stopped at the first byte too many; each sha256 is checked;
4. the database is checked by SQLite and has Stage's schema, every media file decodes or probes
   (:mod:`stage.archive.verify`), and the database is migrated there if the archive is older;
5. only then the staging directory is renamed to the data directory. On any failure it is removed,
   and the data directory (and its parents) are left exactly as they were.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from stage.archive.manifest import ArchiveRefused, Manifest, declared_sizes, read_manifest
from stage.archive.verify import check_database, check_media
from stage.errors import StageError
from stage.media.library import NAME
from stage.media.sizes import describe_size
from stage.records import archive as archive_db
from stage.records.sqlite_store import SqliteStore

__all__ = ["ArchiveRefused", "import_archive"]
log = logging.getLogger(__name__)
Step = Callable[[str, int, int], None]
CHUNK = 1 << 20
# Python's zipfile truncates a member at its directory size (and fails its CRC) and, since
# python/cpython gh-109858, refuses overlapping entries (the "quoted-overlap" bomb) when read; it has
# no size or ratio limits (upstream leaves those to applications), hence stage.archive.manifest.
# What a damaged or hostile zip makes zipfile raise while reading (bad CRC, truncated or bad deflate
# data, an unsupported compression method, an encrypted member).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def import_archive(archive_path: Path, data_dir: Path, step: Step = lambda what, done, total: None,
                   database: str | None = None) -> dict[str, Any]:
    """Check everything, then place the night: in ``data_dir`` (SQLite), or with ``database`` (a PostgreSQL URL)
    its rows in that empty database and only its media in ``data_dir``."""
    data_dir = Path(data_dir)
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise ArchiveRefused(f"{data_dir} is not empty; import only into a new, empty data directory", code="not_empty")
    try:
        archive = zipfile.ZipFile(archive_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveRefused(f"{archive_path} is not a Stage archive: {exc}", code="bad_archive") from None
    with archive:
        manifest = _check_listing(archive, archive_path)
        sizes = declared_sizes(archive, manifest, Path(archive_path).stat().st_size)
        anchor = _existing_ancestor(data_dir)
        if shutil.disk_usage(anchor).free < sum(sizes.values()):
            raise ArchiveRefused(f"the archive unpacks to {describe_size(sum(sizes.values()))}; {anchor} has "
                                 f"{describe_size(shutil.disk_usage(anchor).free)} free", code="too_large")
        staging = Path(tempfile.mkdtemp(dir=anchor, prefix=f".{data_dir.name}.import-"))
        try:
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would become the data directory's mode
            counts = _unpack_and_check(archive, manifest, sizes, staging, step)
            if database:
                step("copying into PostgreSQL", 1, 1)
                _into_postgres(staging / "stage.db", database)
            data_dir.parent.mkdir(parents=True, exist_ok=True)
            # rename(2) replaces an empty directory, so the night appears whole. resolve(): a --data
            # that is a symlink to an empty directory is filled, not replaced by a directory here.
            os.replace(staging, data_dir.resolve())
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    log.info("imported %s into %s: %d records, %d media files", archive_path, data_dir, counts["records"],
             counts["media"])
    return counts


def _check_listing(archive: zipfile.ZipFile, archive_path: Path) -> Manifest:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    names = [info.filename for info in infos]
    for name in names:
        _check_path(name)
    if len(set(names)) != len(names):
        raise ArchiveRefused(f"{archive_path} lists a file twice", code="bad_archive")
    if "manifest.json" not in names:
        raise ArchiveRefused(f"{archive_path} has no manifest.json", code="bad_archive")
    try:
        manifest = read_manifest(archive)
    except READ_ERRORS as exc:
        raise ArchiveRefused(f"manifest.json cannot be read: {exc}", code="bad_archive") from None
    for name in manifest.files:
        _check_path(name)
    unlisted = sorted(set(names) - set(manifest.files) - {"manifest.json"})
    missing = sorted(set(manifest.files) - set(names))
    if unlisted or missing:
        raise ArchiveRefused(f"the manifest does not match the archive (unlisted: {unlisted[:3]}, missing: "
                             f"{missing[:3]})", code="bad_checksum")
    if "data/stage.db" not in manifest.files:
        raise ArchiveRefused("the archive holds no database (data/stage.db)", code="bad_archive")
    return manifest


def _unpack_and_check(archive: zipfile.ZipFile, manifest: Manifest, sizes: dict[str, int], staging: Path,
                      step: Step) -> dict[str, int]:
    """Each member is checked as soon as it is unpacked, so a bad one stops the import early."""
    (staging / "media").mkdir()
    total = len(manifest.files) + 1
    for done, (name, expected) in enumerate(manifest.files.items(), start=1):
        target = _placed(staging, name)
        step(f"unpacking {name}", done - 1, total)
        if _stream(archive, name, sizes[name], target) != expected:
            raise ArchiveRefused(f"{name} does not match its checksum in the manifest; the archive is damaged "
                                 "or was changed", code="bad_checksum")
        if name == "data/stage.db":
            check_database(staging / "stage.db")
        elif target is not None:
            if target.stem != expected:  # media are named by their content's sha256 (stage.media.library)
                raise ArchiveRefused(f"{name} holds other content than its name says", code="bad_media")
            check_media(target, name)
    step("opening the database", total - 1, total)
    media = sum(1 for n in manifest.files if n.startswith("media/"))
    counts = {"records": _migrate_and_count(staging / "stage.db"), "media": media}
    step("imported", total, total)
    return counts


def _placed(staging: Path, name: str) -> Path | None:
    """Where a member goes in the data directory (None: it is only checked, e.g. records.json)."""
    if name == "data/stage.db":
        return staging / "stage.db"
    return staging / name if name.startswith("media/") else None


def _stream(archive: zipfile.ZipFile, name: str, size: int, target: Path | None) -> str:
    """Unpack (or only read) one member, counting bytes: past its declared size it is stopped."""
    digest = hashlib.sha256()
    count = 0
    try:
        with archive.open(name) as source, (open(target, "xb") if target else _Discard()) as out:
            while chunk := source.read(CHUNK):
                count += len(chunk)
                if count > size:
                    raise ArchiveRefused(f"{name} holds more than the {size:,} bytes it declares; the archive is "
                                         "damaged or was changed", code="too_large")
                digest.update(chunk)
                out.write(chunk)
    except READ_ERRORS as exc:
        raise ArchiveRefused(f"{name} cannot be unpacked (the archive is damaged): {exc}", code="bad_archive") from None
    if count != size:
        raise ArchiveRefused(f"{name} holds {count:,} bytes, not the {size:,} it declares", code="bad_checksum")
    return digest.hexdigest()


class _Discard:
    def __enter__(self) -> _Discard:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, chunk: bytes) -> None:
        return None


def _migrate_and_count(db_path: Path) -> int:
    """Applies newer migrations (in the staging copy) and proves the database opens as a store."""
    try:
        store = SqliteStore(db_path)
    except (StageError, sqlite3.Error) as exc:
        raise ArchiveRefused(f"data/stage.db cannot be opened: {getattr(exc, 'message', exc)}",
                             code="bad_database") from None
    try:
        return archive_db.record_count(store)
    except sqlite3.Error as exc:
        raise ArchiveRefused(f"data/stage.db cannot be read: {exc}", code="bad_database") from None
    finally:
        store.close()


def _into_postgres(db_path: Path, database: str) -> None:
    """The checked, migrated night goes into the empty database; the data directory keeps its media only."""
    from stage.records.postgres_store import PostgresStore
    from stage.records.transfer import sqlite_to_postgres

    store = PostgresStore(database)  # migrates a new database; refuses one a server is using
    source = sqlite3.connect(db_path)
    try:
        sqlite_to_postgres(source, store)
    finally:
        source.close()
        store.close()
    db_path.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _existing_ancestor(path: Path) -> Path:
    """The data directory's nearest existing ancestor: staging goes there, on the same file system."""
    for candidate in path.resolve().parents:
        if candidate.is_dir():
            return candidate
    return Path("/")


def _check_path(name: str) -> None:
    """No absolute path, no ``..``, no backslash tricks: every file stays inside the archive's folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or ":" in name or not path.parts:
        raise ArchiveRefused(f"the archive has a path that escapes its folder: {name!r}", code="unsafe_path")
    if path.parts[0] not in ("data", "media", "book") and len(path.parts) > 1:  # book/: readable copies only
        raise ArchiveRefused(f"the archive has an unexpected folder: {name!r}", code="unsafe_path")
    if path.parts[0] == "media" and (len(path.parts) != 2 or not NAME.fullmatch(path.parts[1])):
        raise ArchiveRefused(f"the archive has a media file with a name Stage does not make: {name!r}",
                             code="unsafe_path")
