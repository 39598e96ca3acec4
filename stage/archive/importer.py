"""``stage import ARCHIVE --data EMPTY_DIR``: load an exported night back into a new data directory.

Everything is checked before anything is written: the manifest must list every file with its
sha256, no path may leave the archive's folder, and the data directory must be empty. Then the
database and media are unpacked and the database opened once (migrated if the archive is older).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from stage.errors import StageError
from stage.media.library import NAME
from stage.records.store import Store

log = logging.getLogger(__name__)


class ArchiveRefused(StageError):
    """An archive Stage refuses. Codes: not_empty, bad_archive, bad_checksum, unsafe_path."""

    code = "import"


def import_archive(archive_path: Path, data_dir: Path,
                   step: Callable[[str, int, int], None] = lambda what, done, total: None) -> dict[str, Any]:
    data_dir = Path(data_dir)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ArchiveRefused(f"{data_dir} is not empty; import only into a new, empty data directory", code="not_empty")
    try:
        archive = zipfile.ZipFile(archive_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveRefused(f"{archive_path} is not a Stage archive: {exc}", code="bad_archive") from exc
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        for name in names:
            _check_path(name)
        if "manifest.json" not in names:
            raise ArchiveRefused(f"{archive_path} has no manifest.json", code="bad_archive")
        try:
            files: dict[str, str] = json.loads(archive.read("manifest.json"))["files"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ArchiveRefused("manifest.json cannot be read", code="bad_archive") from exc
        for name in files:
            _check_path(name)
        unlisted = sorted(set(names) - set(files) - {"manifest.json"})
        missing = sorted(set(files) - set(names))
        if unlisted or missing:
            raise ArchiveRefused(f"the manifest does not match the archive (unlisted: {unlisted[:3]}, missing: "
                               f"{missing[:3]})", code="bad_checksum")
        if "data/stage.db" not in files:
            raise ArchiveRefused("the archive holds no database (data/stage.db)", code="bad_archive")
        for done, (name, expected) in enumerate(files.items(), start=1):
            if _sha256(archive, name) != expected:
                raise ArchiveRefused(f"{name} does not match its checksum in the manifest; the archive is damaged "
                                   "or was changed", code="bad_checksum")
            step(f"checking {name}", done, len(files) * 2)
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "media").mkdir()
        wanted = [n for n in files if n == "data/stage.db" or n.startswith("media/")]
        for done, name in enumerate(wanted, start=len(files)):
            target = data_dir / ("stage.db" if name == "data/stage.db" else name)
            with archive.open(name) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            step(f"unpacking {name}", done, len(files) + len(wanted))
    store = Store(data_dir / "stage.db")  # applies newer migrations, proves the database opens
    try:
        counts = {"records": store.query("SELECT COUNT(*) AS n FROM records")[0]["n"],
                  "media": len(wanted) - 1}
    finally:
        store.close()
    log.info("imported %s into %s: %d records, %d media files", archive_path, data_dir, counts["records"],
             counts["media"])
    return counts


def _check_path(name: str) -> None:
    """No absolute path, no ``..``, no backslash tricks: every file stays inside the archive's folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or ":" in name or not path.parts:
        raise ArchiveRefused(f"the archive has a path that escapes its folder: {name!r}", code="unsafe_path")
    if path.parts[0] not in ("data", "media") and len(path.parts) > 1:
        raise ArchiveRefused(f"the archive has an unexpected folder: {name!r}", code="unsafe_path")
    if path.parts[0] == "media" and (len(path.parts) != 2 or not NAME.fullmatch(path.parts[1])):
        raise ArchiveRefused(f"the archive has a media file with a name Stage does not make: {name!r}",
                           code="unsafe_path")


def _sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
