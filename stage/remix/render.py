"""Render a plan to an MP4 (and a PNG for cards). Runs in the remix worker process, never in the server.

Clip pictures stay in YUV from decoder to encoder: each source frame is scaled once by swscale and
captions are blended straight into the Y, U and V planes of the caption band, so a captioned take
costs hardly more than a plain re-encode (see bench/render_speed.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
from PIL import Image

from stage.errors import StageError
from stage.remix import text
from stage.remix.encoder import RATE, Encoder
from stage.remix.plan import Clip, Plan, Still

log = logging.getLogger(__name__)
LABEL_SECONDS = 3.0


class RenderError(StageError):
    """A render that cannot finish. Codes: source_missing, source_corrupt."""

    code = "render_failed"


def render(plan: Plan, video: Path, poster: Path | None = None,
           progress: Callable[[float], None] = lambda fraction: None) -> dict:
    """Write ``video`` (and ``poster`` for a plan with one); returns what was made."""
    for segment in plan.segments:  # fail before writing anything when a source is gone
        for path in _paths(segment):
            if not path.is_file():
                raise RenderError(f"the source file {path.name} is missing from the media library",
                                  code="source_missing")
    width, height = plan.size
    encoder = Encoder(video, width, height, plan.fps, plan.preset)
    total = max(plan.seconds, 1e-6)
    try:
        for index, segment in enumerate(plan.segments):
            if isinstance(segment, Still):
                image = _still(segment, width, height)
                if poster is not None and index == 0 and plan.poster:
                    image.save(poster, "PNG")
                frames = [av.VideoFrame.from_image(image).reformat(format="yuv420p")]
                count = round(segment.seconds * plan.fps)
                for n in range(count):
                    frame = av.VideoFrame.from_ndarray(frames[0].to_ndarray(), format="yuv420p")
                    encoder.add_frame(frame)
                    if n % 15 == 0:
                        progress(encoder.seconds / total)
            else:
                _clip(segment, encoder, width, height, lambda: progress(encoder.seconds / total))
            encoder.align()
        encoder.close()
    except av.error.FFmpegError as exc:
        encoder.abort()
        raise RenderError(f"a source file could not be decoded: {exc}", code="source_corrupt") from exc
    except BaseException:
        encoder.abort()
        raise
    progress(1.0)
    return {"duration": encoder.seconds, "width": width, "height": height}


def _paths(segment: Still | Clip) -> list[Path]:
    if isinstance(segment, Clip):
        return [segment.path]
    return [segment.picture] if segment.picture else []


def _still(segment: Still, width: int, height: int) -> Image.Image:
    if segment.picture is None:
        return text.title_card(segment.title, segment.subtitle, width, height)
    try:
        with Image.open(segment.picture) as picture:
            picture.load()
            return text.story_card(segment.title, picture, segment.subtitle, width, height)
    except (OSError, SyntaxError, ValueError) as exc:
        raise RenderError(f"the picture {segment.picture.name} could not be read: {exc}",
                          code="source_corrupt") from exc


class _Overlay:
    """An RGBA strip pre-converted to Y, U, V and alpha, blended into a yuv420p frame's planes in place.

    Fixed-point (alpha in 1/256 steps, uint16): about three times faster than float per frame.
    """

    def __init__(self, strip: Image.Image, top: int) -> None:
        rgba = np.asarray(strip, dtype=np.float32)
        r, g, b, a = (rgba[..., i] for i in range(4))
        y = 0.257 * r + 0.504 * g + 0.098 * b + 16  # BT.601 limited range, as swscale writes
        u = -0.148 * r - 0.291 * g + 0.439 * b + 128
        v = 0.439 * r - 0.368 * g - 0.071 * b + 128
        alpha = np.rint(a / 255.0 * 256).astype(np.uint16)
        self.planes = []
        for index, values, step, row in ((0, y, 1, top), (1, u, 2, top // 2), (2, v, 2, top // 2)):
            weight = alpha[::step, ::step]
            self.planes.append((index, row, 256 - weight, (values[::step, ::step] * weight).astype(np.uint16)))

    def blend(self, frame: av.VideoFrame) -> None:
        for index, top, keep, premultiplied in self.planes:
            plane = frame.planes[index]
            h, w = keep.shape
            pixels = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[top:top + h, :w]
            pixels[...] = (pixels * keep + premultiplied) >> 8


def _overlays(segment: Clip, width: int, height: int) -> list[tuple[float, _Overlay | None]]:
    """(until seconds into the clip, overlay) pairs: the story paged by length across the clip."""
    seconds = segment.end - segment.start
    if not segment.caption:
        return [(seconds, None)]
    pages = text.caption_pages(segment.caption, width, height)
    chars = sum(n for _, n in pages) or 1
    out, at = [], 0.0
    for lines, n in pages:
        at += seconds * n / chars
        out.append((at, _Overlay(*text.caption_strip(lines, width, height))))
    return out


def _clip(segment: Clip, encoder: Encoder, width: int, height: int, tick: Callable[[], None]) -> None:
    seconds = segment.end - segment.start
    count = max(1, round(seconds * encoder.fps))
    overlays = _overlays(segment, width, height)
    label = _Overlay(*_label_strip(segment.label, width, height)) if segment.label else None
    with av.open(str(segment.path)) as source:
        if not source.streams.video:
            raise RenderError(f"the take {segment.path.name} has no pictures", code="source_corrupt")
        frames = _frames(source, segment.start)
        current = next(frames, None)
        if current is None:
            raise RenderError(f"the take {segment.path.name} has no pictures after {segment.start:.2f}s",
                              code="source_corrupt")
        upcoming = next(frames, None)
        for n in range(count):
            at = segment.start + n / encoder.fps
            while upcoming is not None and upcoming.time is not None and upcoming.time <= at + 1e-6:
                current, upcoming = upcoming, next(frames, None)
            out = current.reformat(width=width, height=height, format="yuv420p")
            into = n / encoder.fps
            overlay = next((o for until, o in overlays if into < until), overlays[-1][1])
            if overlay is not None:
                overlay.blend(out)
            if label is not None and into < LABEL_SECONDS:
                label.blend(out)
            encoder.add_frame(out)
            if n % 15 == 0:
                tick()
    _audio(segment, encoder)


def _frames(source: av.container.InputContainer, start: float) -> Iterator[av.VideoFrame]:
    stream = source.streams.video[0]
    stream.thread_type = "AUTO"
    if start > 0 and stream.time_base:
        source.seek(int(start / stream.time_base), stream=stream)
    last = None
    for frame in source.decode(stream):
        if frame.time is not None and frame.time < start:
            last = frame  # the frame on screen at ``start`` began before it
            continue
        if last is not None:
            yield last
            last = None
        yield frame
    if last is not None:
        yield last


def _audio(segment: Clip, encoder: Encoder) -> None:
    with av.open(str(segment.path)) as source:
        if not source.streams.audio:
            return  # silence: align() pads it
        stream = source.streams.audio[0]
        if segment.start > 0 and stream.time_base:
            source.seek(int(segment.start / stream.time_base), stream=stream)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        for frame in source.decode(stream):
            if frame.time is None:
                continue
            begin, end = frame.time, frame.time + frame.samples / frame.sample_rate
            if end <= segment.start:
                continue
            if begin >= segment.end:
                break
            for out in resampler.resample(frame):
                samples = out.to_ndarray()
                skip = max(0, round((segment.start - begin) * RATE))
                keep = samples.shape[1] - max(0, round((end - segment.end) * RATE))
                encoder.add_audio(samples[:, skip:max(skip, keep)])


def _label_strip(label: str, width: int, height: int) -> tuple[Image.Image, int]:
    strip, _ = text.caption_strip([label], width, height)
    top = height // 18
    return strip, top - top % 2
