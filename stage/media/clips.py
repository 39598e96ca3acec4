"""Clips from phones: probed with PyAV, capped, and made playable in every browser (MP4, H.264 + AAC).

A clip that already is H.264 (+ AAC) in MP4/MOV is only remuxed (no quality lost, fast); AAC-only
sound becomes an .m4a the same way. Everything else (VP8/VP9/HEVC, webm, 3gp, Opus, MP3...) is
transcoded by `stage.media.transcoder`. The result is written under a temporary name in the
destination directory and renamed when complete, so a failed ingest never leaves a partial file.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av

from stage.errors import StageError
from stage.media import transcoder
from stage.media.sizes import describe_seconds, describe_size

log = logging.getLogger(__name__)

MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
PLAYABLE_PIX_FMTS = frozenset({"yuv420p", "yuvj420p"})
# 8K is the most a phone records; a bigger frame is a decoding bomb, refused before decoding.
MAX_VIDEO_PIXELS = 7680 * 4320
# Phones stop a "60 second" recording a few frames late; do not refuse those.
GRACE_SECONDS = 0.5
UNDECODABLE = "That clip could not be read to the end (it may be damaged or cut short); please send it again"
NOT_MEDIA = "That file is not a video or sound clip Stage can read; please record it again"


class ClipError(StageError):
    """A clip Stage refuses. Codes: too_large, empty, too_long, not_media, undecodable."""

    code = "clip"


@dataclass(frozen=True)
class IngestedClip:
    path: Path
    mime: str
    duration: float
    has_video: bool
    width: int | None
    height: int | None
    transcoded: bool


@dataclass
class ClipInfo:
    """What probing found: the container, its length and the first video and audio stream."""

    format: str
    duration: float
    size: int
    streams: list[dict] = field(default_factory=list)
    video: dict | None = None
    audio: dict | None = None


def probe_clip(path: Path) -> dict:
    """Duration, container and streams (codec names, sizes), for logs and the moderation preview."""
    info = _probe(Path(path))
    return {"format": info.format, "duration": info.duration, "size": info.size, "streams": info.streams}


def ingest_clip(
    src: Path,
    dest_dir: Path,
    *,
    max_bytes: int = 100 * 1024 * 1024,
    max_seconds: float = 60,
    progress: Callable[[float], None] | None = None,
) -> IngestedClip:
    """Check one uploaded clip and write a browser-playable copy into dest_dir."""
    src, dest_dir = Path(src), Path(dest_dir)
    size = src.stat().st_size
    if size == 0:
        raise ClipError("That clip is empty (0 bytes); please try again", code="empty")
    if size > max_bytes:
        raise ClipError(
            f"That clip is {describe_size(size)}; the limit is {describe_size(max_bytes)}", code="too_large"
        )
    info = _probe(src)
    limit = max_seconds + GRACE_SECONDS
    if info.duration > limit:
        raise ClipError(_too_long_message(info.duration, max_seconds), code="too_long")
    has_video = info.video is not None
    report = transcoder.Progress(progress, info.duration)
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest_dir / f".ingest-{uuid.uuid4().hex}.part"
    final = dest_dir / f"clip-{uuid.uuid4().hex}.{'mp4' if has_video else 'm4a'}"
    try:
        coded, transcoded = _write(src, tmp, info, limit, report)
        report.done()
        os.replace(tmp, final)
    except transcoder.TranscodeError as exc:
        if exc.code == "too_long":
            raise ClipError(_too_long_message(exc.seconds or limit, max_seconds), code="too_long") from None
        log.info("clip %s failed: %s", src.name, exc)
        raise ClipError(UNDECODABLE, code="undecodable") from None
    except av.error.FFmpegError as exc:
        log.info("clip %s failed: %s", src.name, exc)
        raise ClipError(UNDECODABLE, code="undecodable") from None
    finally:
        tmp.unlink(missing_ok=True)
    duration = _written_duration(final, info.duration)
    width, height = _display_size(coded, info.video)
    log.info(
        "ingested clip %s (%s, %s, %.1f s) -> %s (%s)",
        src.name, info.format, _codecs(info), duration, final.name, "transcoded" if transcoded else "remuxed",
    )
    return IngestedClip(
        path=final,
        mime="video/mp4" if has_video else "audio/mp4",
        duration=duration,
        has_video=has_video,
        width=width,
        height=height,
        transcoded=transcoded,
    )


def _write(
    src: Path, tmp: Path, info: ClipInfo, limit: float, report: transcoder.Progress
) -> tuple[tuple[int, int] | None, bool]:
    """Remux when the codecs already play everywhere, else transcode (also when a remux fails)."""
    streams = {"video": info.video, "audio": info.audio, "max_seconds": limit, "progress": report}
    if _can_remux(info):
        try:
            return transcoder.remux(src, tmp, **streams), False
        except av.error.FFmpegError as exc:
            log.info("remux of %s failed (%s); transcoding instead", src.name, exc)
            tmp.unlink(missing_ok=True)
    return transcoder.transcode(src, tmp, **streams), True


def _probe(path: Path) -> ClipInfo:
    size = path.stat().st_size  # a missing file is the caller's bug: FileNotFoundError, not "not media"
    try:
        container = transcoder.open_source(path)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        log.info("not media: %s: %s", path.name, exc)
        raise ClipError(NOT_MEDIA, code="not_media") from None
    with container:
        info = ClipInfo(format=container.format.name, duration=0.0, size=size)
        for stream in container.streams:
            described = _describe(stream)
            if described is None:
                continue
            info.streams.append(described)
            if described["type"] == "video" and info.video is None:
                info.video = described
            elif described["type"] == "audio" and info.audio is None:
                info.audio = described
        if info.video is None and info.audio is None:
            raise ClipError(NOT_MEDIA, code="not_media")
        if info.video is not None:
            _check_frame_size(info.video)
            info.video["rotation"] = _first_frame_rotation(container, info.video["index"])
        info.duration = _duration(container)
    if info.duration <= 0:
        raise ClipError(NOT_MEDIA, code="not_media")
    return info


def _describe(stream: av.stream.Stream) -> dict | None:
    ctx = stream.codec_context
    if ctx is None or stream.type not in ("video", "audio"):
        return None
    if stream.type == "video":
        if stream.disposition & av.stream.Disposition.attached_pic:
            return None  # cover art in a music file is not a video
        fps = float(stream.average_rate) if stream.average_rate else None
        return {
            "type": "video", "index": stream.index, "codec": ctx.codec.canonical_name,
            "width": ctx.width, "height": ctx.height, "pix_fmt": ctx.pix_fmt, "fps": fps,
        }
    return {
        "type": "audio", "index": stream.index, "codec": ctx.codec.canonical_name,
        "sample_rate": ctx.sample_rate, "channels": ctx.channels,
    }


def _check_frame_size(video: dict) -> None:
    width, height = video["width"], video["height"]
    if width <= 0 or height <= 0:
        raise ClipError(UNDECODABLE, code="undecodable")
    if width * height > MAX_VIDEO_PIXELS:
        raise ClipError(
            f"That clip is {width} × {height} pixels; the limit is 8K (7680 × 4320)", code="too_large"
        )


def _first_frame_rotation(container: av.container.InputContainer, index: int) -> int:
    """The display rotation phones store for portrait video (it reaches frames as side data).

    Decoding the first frame here also refuses, before any work, a file whose video cannot be decoded.
    """
    bad_packets = 0
    try:
        for packet in container.demux(container.streams[index]):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                bad_packets += 1
                if bad_packets > transcoder.MAX_BAD_PACKETS:
                    break
                continue
            if frames:
                return int(frames[0].rotation) % 360
    except av.error.FFmpegError as exc:
        log.info("first video frame undecodable: %s", exc)
    raise ClipError(UNDECODABLE, code="undecodable")


def _duration(container: av.container.InputContainer) -> float:
    """The container's duration, or (webm from MediaRecorder has none) the last packet's end."""
    if container.duration:
        return container.duration / av.time_base
    known = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    if known:
        return max(known)
    container.seek(0)
    end = 0.0
    for packet in container.demux():
        if packet.pts is not None and packet.time_base:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end


def _written_duration(path: Path, probed: float) -> float:
    """The length of what was written: a clip cut short in upload is shorter than its header says."""
    try:
        with av.open(str(path)) as written:
            return written.duration / av.time_base if written.duration else probed
    except av.error.FFmpegError:
        return probed


def _can_remux(info: ClipInfo) -> bool:
    if info.format != MOV_FAMILY:
        return False
    audio_ok = info.audio is None or info.audio["codec"] == "aac"
    if info.video is None:
        return audio_ok
    return info.video["codec"] == "h264" and info.video["pix_fmt"] in PLAYABLE_PIX_FMTS and audio_ok


def _display_size(size: tuple[int, int] | None, video: dict | None) -> tuple[int | None, int | None]:
    """Width and height as the clip is shown: a portrait phone clip is stored landscape and rotated."""
    if size is None or video is None:
        return None, None
    width, height = size
    return (height, width) if video["rotation"] in (90, 270) else (width, height)


def _too_long_message(seconds: float, max_seconds: float) -> str:
    return f"That clip is {describe_seconds(seconds)} long; the limit is {describe_seconds(max_seconds)}"


def _codecs(info: ClipInfo) -> str:
    return "+".join(s["codec"] for s in (info.video, info.audio) if s)
