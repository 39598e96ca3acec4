"""The archive's ``manifest.json`` and the size limits an import holds every member to.

``stage export`` writes ``{"stage", "created_at", "include_withheld", "withheld_left_out", "files":
{name: sha256}, "sizes": {name: bytes}}``. ``sizes`` came later: an archive without it is held to
the sizes in the zip's own directory instead (still capped; the byte count while unpacking stops a
member that is longer than what it declared either way).
"""

from __future__ import annotations

import zipfile
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stage.errors import StageError
from stage.media.sizes import describe_size

MIB = 1024 * 1024
GIB = 1024 * MIB
MAX_MANIFEST = 16 * MIB  # a night of thousands of files lists them in a few hundred KiB
# Per member, by what Stage makes: photos and drawings are re-encoded at 2048 px at most (a few MiB;
# a 2048x2048 RGBA PNG is at most 16 MiB); takes are capped at 4 GiB by the capture server
# (limits.max_take_mb); the database and the JSON/CSV/HTML files of a long night stay far below 2 GiB.
MAX_IMAGE = 32 * MIB
MAX_CLIP = 4 * GIB
MAX_OTHER = 2 * GIB
MAX_TOTAL = 64 * GIB
# Export stores media as they are and deflates text and the database, which shrink 3-20x; 1.1 GB of
# zeros deflates 1000x. Members under 1 MiB may shrink more (an empty table is all zero pages).
MAX_RATIO = 100
RATIO_FLOOR = MIB
IMAGE_EXTS = frozenset({"jpg", "png"})
CLIP_EXTS = frozenset({"mp4", "m4a"})

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ArchiveRefused(StageError):
    """An archive Stage refuses. Codes: not_empty, bad_archive, bad_checksum, unsafe_path, too_large,
    bad_media, bad_database."""

    code = "import"


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    stage: str
    created_at: float | int
    include_withheld: bool = False
    withheld_left_out: int = 0
    files: dict[str, Sha256]
    sizes: dict[str, Annotated[int, Field(ge=0)]] | None = None


def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    info = archive.getinfo("manifest.json")
    if info.file_size > MAX_MANIFEST:
        raise ArchiveRefused(f"manifest.json is {describe_size(info.file_size)}; the limit is "
                             f"{describe_size(MAX_MANIFEST)}", code="too_large")
    with archive.open(info) as source:
        raw = source.read(MAX_MANIFEST + 1)
    try:
        return Manifest.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ArchiveRefused(f"manifest.json: {where}: {first['msg']}{more}", code="bad_archive") from None


def cap_for(name: str) -> int:
    ext = name.rsplit(".", 1)[-1]
    if name.startswith("media/"):
        return MAX_IMAGE if ext in IMAGE_EXTS else MAX_CLIP
    return MAX_OTHER


def declared_sizes(archive: zipfile.ZipFile, manifest: Manifest, archive_size: int) -> dict[str, int]:
    """Each listed member's size, the manifest and the zip agreeing, every one within its caps."""
    sizes: dict[str, int] = {}
    for name in manifest.files:
        info = archive.getinfo(name)
        size = info.file_size
        if manifest.sizes is not None:
            if name not in manifest.sizes:
                raise ArchiveRefused(f"manifest.json gives no size for {name}", code="bad_archive")
            if manifest.sizes[name] != size:
                raise ArchiveRefused(f"{name} does not match its checksum and size in the manifest ({size:,} bytes "
                                     f"in the zip, {manifest.sizes[name]:,} listed); the archive is damaged or was "
                                     "changed", code="bad_checksum")
        if size > cap_for(name):
            raise ArchiveRefused(f"{name} is {describe_size(size)}; the limit for it is "
                                 f"{describe_size(cap_for(name))}", code="too_large")
        packed = max(1, min(info.compress_size, archive_size))  # a member cannot be packed into more than the zip
        if size > RATIO_FLOOR and size > MAX_RATIO * packed:
            raise ArchiveRefused(f"{name} unpacks from {describe_size(packed)} to "
                                 f"{describe_size(size)}, more than {MAX_RATIO} times; Stage does not make "
                                 "such files (a zip bomb?)", code="too_large")
        sizes[name] = size
    total = sum(sizes.values())
    packed = sum(archive.getinfo(name).compress_size for name in sizes)
    if total > RATIO_FLOOR and total > MAX_RATIO * max(1, min(packed, archive_size)):
        # Many members each under the floor (1 MiB of zeros packs into 1 KiB) add up the same way.
        raise ArchiveRefused(f"the archive unpacks from {describe_size(packed)} to {describe_size(total)}, more "
                             f"than {MAX_RATIO} times; Stage does not make such archives (a zip bomb?)",
                             code="too_large")
    if total > MAX_TOTAL:
        raise ArchiveRefused(f"the archive unpacks to {describe_size(total)}; the limit is "
                             f"{describe_size(MAX_TOTAL)}", code="too_large")
    return sizes
