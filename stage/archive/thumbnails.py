"""Small pictures of the night's pieces for the report, embedded as ``data:`` URIs.

Embedded, not linked to ``media/``: the report is forwarded on its own (an e-mail attachment), away from the
archive's media. A drawing or photo is scaled down; a take or clip gives a frame a second in (its first
frame is often black); a remix its poster. A file that is missing or does not decode gives no picture and a
log line, never a failed export: the report is the last thing an export writes before the zip.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

WIDTH = 480  # pixels: sharp at the page's card width on a 2x screen and in print, ~30 KB a picture
QUALITY = 78
IMAGE_EXTS = {"png", "jpg", "jpeg", "webp", "gif"}
VIDEO_EXTS = {"mp4", "webm", "mov", "m4v"}
NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,8}")  # media library names only: nothing else is opened


def picture(media_dir: Path | None, name: str | None, at_seconds: float = 1.0) -> str | None:
    """A JPEG ``data:`` URI of the media file ``name`` in ``media_dir``, or None."""
    if media_dir is None or not name or not NAME.fullmatch(name):
        return None
    path = Path(media_dir) / name
    if not path.is_file():
        return None
    ext = name.rsplit(".", 1)[1]
    try:
        if ext in IMAGE_EXTS:
            with Image.open(path) as opened:
                image = opened.convert("RGBA")
        elif ext in VIDEO_EXTS:
            image = _frame(path, at_seconds)
        else:
            return None
    except Exception as exc:  # a broken file must not fail the export: the archive still holds it
        log.warning("report: no picture of %s: %s", name, exc)
        return None
    return _jpeg(image)


def _frame(path: Path, at_seconds: float) -> Image.Image:
    import av  # only when a take or clip is shown: PyAV is a large import

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        at = min(at_seconds, duration / 2) if duration else 0.0
        if at > 0 and stream.time_base:
            container.seek(int(at / stream.time_base), stream=stream)
        for frame in container.decode(stream):
            if frame.time is None or frame.time >= at - 0.05:
                return frame.to_image().convert("RGBA")
    raise ValueError("no video frame")


def _jpeg(image: Image.Image) -> str:
    # Drawings have a transparent background: on white, as the page shows them.
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    if flat.width > WIDTH:
        flat = flat.resize((WIDTH, round(flat.height * WIDTH / flat.width)), Image.LANCZOS)
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
