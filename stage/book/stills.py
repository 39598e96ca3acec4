"""A still from a take or a clip: the frame at a chosen second, at the video's own resolution, as a JPEG.

PyAV seeks to the keyframe before the second and decodes forward to the frame showing at that second (a
seek alone lands on the keyframe, up to a GOP early). A second past the end gives the last frame. A file that
cannot be opened or decoded raises :class:`StillError`, which the renderer turns into a message naming the page.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av

log = logging.getLogger(__name__)

QUALITY = 90


class StillError(Exception):
    """The video cannot give a still (unreadable, no video stream, no frame)."""


def extract(video: Path, at: float, out: Path, quality: int = QUALITY) -> tuple[int, int]:
    """Write the frame at ``at`` seconds of ``video`` to ``out`` (JPEG); returns its (width, height)."""
    try:
        with av.open(str(video)) as container:
            if not container.streams.video:
                raise StillError("it has no video")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frame = _frame_at(container, stream, max(0.0, float(at)))
            image = frame.to_image()
    except StillError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise StillError(f"it cannot be decoded ({exc})") from exc
    image.save(out, "JPEG", quality=quality, optimize=True)
    log.debug("still of %s at %.2f s: %dx%d", video.name, at, image.width, image.height)
    return image.width, image.height


def _frame_at(container, stream, at: float):  # type: ignore[no-untyped-def]
    start = stream.start_time or 0
    offset = float(start * stream.time_base) if stream.time_base is not None else 0.0  # seconds are from the start
    if stream.time_base is not None and at > 0:
        container.seek(start + int(at / stream.time_base), stream=stream, backward=True, any_frame=False)
    half_frame = 0.5 / float(stream.average_rate) if stream.average_rate else 0.0
    last = None
    for frame in container.decode(stream):
        if frame.time is not None and frame.time - offset + half_frame >= at:
            return frame
        last = frame
    if last is None:
        raise StillError("it holds no frame")
    return last
