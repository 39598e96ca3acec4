"""Media files beside the database, named by their content: ``<sha256>.<ext>``.

The same bytes always get the same name, so a retried upload stores nothing twice, and a name
can be handed to browsers without revealing anything about who sent it. Files are written under
a temporary name, flushed to disk and renamed, so a crash never leaves half a file under a real
name. Names coming back from URLs are checked strictly: nothing but 64 hex digits and an extension.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from stage.errors import StageError

log = logging.getLogger(__name__)

NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,8}")
EXT = re.compile(r"[a-z0-9]{1,8}")
CHUNK = 1024 * 1024
FILE_MODE = 0o644


class MediaLibraryError(StageError):
    """A name or extension the library refuses. Codes: bad_name, bad_ext."""

    code = "media_library"


class MediaLibrary:
    """Content-addressed files in one directory (``root``), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, ext: str) -> str:
        """Store bytes; return their name. Storing the same bytes again returns the same name."""
        name = f"{hashlib.sha256(data).hexdigest()}.{_check_ext(ext)}"
        target = self.root / name
        if target.exists():
            return name
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".put-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._publish(Path(tmp), target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        log.info("stored %s (%d bytes)", name, len(data))
        return name

    def put_file(self, path: Path, ext: str, sha256: str | None = None) -> str:
        """Move a finished file in (copy across file systems); the source is gone afterwards.
        ``sha256``: its digest when the caller has just verified it (a take of gigabytes is read once)."""
        path = Path(path)
        name = f"{sha256 or _file_sha256(path)}.{_check_ext(ext)}"
        target = self.root / name
        if target.exists():
            path.unlink()
            return name
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".put-", suffix=".part")
        os.close(fd)
        try:
            try:
                os.replace(path, tmp)
            except OSError:  # another file system (EXDEV): copy, then drop the source
                shutil.copyfile(path, tmp)
                path.unlink()
            with open(tmp, "rb+") as out:
                os.fsync(out.fileno())
            self._publish(Path(tmp), target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        log.info("stored %s from %s", name, path.name)
        return name

    def path(self, name: str) -> Path:
        """Where a stored file lives; refuses anything but ``<64 hex>.<ext>`` (no ``..``, no ``/``)."""
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise MediaLibraryError("That media file name is not valid", code="bad_name")
        return self.root / name

    def _publish(self, tmp: Path, target: Path) -> None:
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)  # atomic; a racing writer of the same name wrote the same bytes
        _fsync_dir(self.root)


def _check_ext(ext: str) -> str:
    ext = ext.lower().lstrip(".")
    if not EXT.fullmatch(ext):
        raise MediaLibraryError(f"The file type {ext!r} cannot be stored", code="bad_ext")
    return ext


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (the ack to a phone comes after this)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
