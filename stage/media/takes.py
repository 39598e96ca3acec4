"""A finished take file from a capture agent: verified (size, sha256), probed, then stored.

Runs in the media worker process (``python -m stage.media.worker take ...``): hashing gigabytes and
opening the file with PyAV must never happen in the server's event loop.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from stage.errors import StageError
from stage.media.clips import ClipError, probe_clip
from stage.media.library import CHUNK, MediaLibrary


class TakeFileError(StageError):
    """A take file Stage refuses. Codes: size_mismatch, checksum_mismatch, not_media, no_video."""

    code = "take_file"


def ingest_take(src: Path, library: MediaLibrary, sha256: str, size: int) -> dict[str, Any]:
    actual = src.stat().st_size
    if actual != size:
        raise TakeFileError(f"the server holds {actual} bytes of this take, not {size}", code="size_mismatch")
    digest = hashlib.sha256()
    with open(src, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha256.lower():
        raise TakeFileError("the take's sha256 does not match what was received; upload it again",
                           code="checksum_mismatch")
    try:
        info = probe_clip(src)
    except ClipError as exc:
        raise TakeFileError(f"the take is not a playable file: {exc.message}", code="not_media") from None
    video = next((s for s in info["streams"] if s["type"] == "video"), None)
    if video is None:
        raise TakeFileError("the take has no video stream", code="no_video")
    audio = next((s for s in info["streams"] if s["type"] == "audio"), None)
    name = library.put_file(src, "mp4", sha256=digest.hexdigest())  # the digest just checked: read it once
    return {"media": name, "mime": "video/mp4", "duration": round(info["duration"], 3), "width": video["width"],
            "height": video["height"], "video_codec": video["codec"], "audio_codec": audio["codec"] if audio else None}
