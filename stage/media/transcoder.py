"""The two ways a clip becomes browser-playable MP4: remux (copy the packets) or transcode (PyAV).

Transcoding keeps the source's own timestamps (phones record variable frame rate, so frames are
never renumbered), scales so the longest side is at most 1280 with even dimensions, and keeps
the phone's display rotation as a display matrix instead of turning pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from stage.errors import StageError

log = logging.getLogger(__name__)

MAX_SIDE = 1280
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}
AAC_BIT_RATE = 128_000
AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350})
# A phone clip with a bad packet or two still plays; past this many it is a broken file.
MAX_BAD_PACKETS = 5
MP4_OPTIONS = {"movflags": "faststart"}
# Uploads are opened only by the demuxers of what phones record (camera and recorder apps), and
# only as local files: FFmpeg's other demuxers (playlists, image sequences, exotic formats) never
# see untrusted bytes, and no playlist inside an upload can make FFmpeg open another file or URL.
DEMUXERS = ("mov", "matroska", "ogg", "mp3", "aac", "wav", "flac", "amr", "amrnb", "amrwb", "avi", "mpegts")
SOURCE_OPTIONS = {"format_whitelist": ",".join(DEMUXERS), "protocol_whitelist": "file"}


class TranscodeError(StageError):
    """A clip that cannot be copied or encoded. Codes: too_long (``seconds`` says how far), undecodable."""

    code = "transcode"

    def __init__(self, message: str, *, code: str, seconds: float | None = None) -> None:
        super().__init__(message, code=code)
        self.seconds = seconds


class Progress:
    """Reports the fraction done (0..1) to an optional callback, in steps of at least 1 %."""

    def __init__(self, callback: Callable[[float], None] | None, duration: float) -> None:
        self.callback = callback
        self.duration = duration
        self.last = -1.0
        self._report(0.0)

    def at(self, seconds: float) -> None:
        if self.duration > 0:
            fraction = min(max(seconds / self.duration, 0.0), 0.99)
            if fraction - self.last >= 0.01:
                self._report(fraction)

    def done(self) -> None:
        self._report(1.0)

    def _report(self, fraction: float) -> None:
        self.last = fraction
        if self.callback is not None:
            self.callback(fraction)


def open_source(path: Path) -> av.container.InputContainer:
    """Open an upload for reading, restricted to the demuxers and protocol above."""
    return av.open(str(path), options=dict(SOURCE_OPTIONS), metadata_errors="replace")


def fit(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """Scale down so the longest side is at most max_side; H.264 in 4:2:0 needs even sides."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def remux(
    src: Path, dest: Path, *, video: dict | None, audio: dict | None, max_seconds: float, progress: Progress
) -> tuple[int, int] | None:
    """Copy the chosen streams' packets into an MP4 with the index first (faststart)."""
    with open_source(src) as source, av.open(str(dest), "w", format="mp4", options=dict(MP4_OPTIONS)) as out:
        chosen = [source.streams[info["index"]] for info in (video, audio) if info]
        targets = {stream.index: out.add_stream_from_template(stream) for stream in chosen}
        start = _start_seconds(source)
        for packet in source.demux(chosen):
            if packet.dts is None:
                continue  # the empty packet demux yields at the end of each stream
            if packet.pts is not None:
                seconds = float(packet.pts * packet.time_base) - start
                _check_length(seconds, max_seconds)
                progress.at(seconds)
            packet.stream = targets[packet.stream.index]
            out.mux(packet)
    return (video["width"], video["height"]) if video else None


class _Lane:
    """One input stream decoded and re-encoded into one output stream, timestamps kept."""

    def __init__(self, source: av.stream.Stream, target: av.stream.Stream, start: float) -> None:
        self.source = source
        self.target = target
        self.start_ticks = round(start / source.time_base) if source.time_base else 0
        self.last_pts: int | None = None
        self.bad_packets = 0
        self.frames = 0

    def decode(self, packet: av.Packet) -> list[av.frame.Frame]:
        try:
            return packet.decode()
        except av.error.FFmpegError as exc:
            self.bad_packets += 1
            log.info("bad %s packet %d: %s", self.source.type, self.bad_packets, exc)
            if self.bad_packets > MAX_BAD_PACKETS:
                raise TranscodeError(f"too many bad {self.source.type} packets", code="undecodable") from None
            return []

    def retime(self, frame: av.frame.Frame) -> None:
        """Shift to start at zero; video pts must rise strictly (x264 refuses repeats)."""
        if frame.pts is None:
            if self.source.type == "audio":
                return
            frame.pts = (self.last_pts + 1 if self.last_pts is not None else 0) + self.start_ticks
        pts = frame.pts - self.start_ticks
        if self.source.type == "video":
            pts = max(pts, 0)
            if self.last_pts is not None and pts <= self.last_pts:
                pts = self.last_pts + 1
        frame.pts = pts
        self.last_pts = pts


def transcode(
    src: Path, dest: Path, *, video: dict | None, audio: dict | None, max_seconds: float, progress: Progress
) -> tuple[int, int] | None:
    """Decode the first video and audio stream and encode H.264 (yuv420p) + AAC into an MP4."""
    size = fit(video["width"], video["height"]) if video else None
    with open_source(src) as source, av.open(str(dest), "w", format="mp4", options=dict(MP4_OPTIONS)) as out:
        start = _start_seconds(source)
        lanes: dict[int, _Lane] = {}
        if video:
            stream = source.streams[video["index"]]
            stream.thread_type = "AUTO"
            lanes[stream.index] = _Lane(stream, _video_target(out, stream, size, video["rotation"]), start)
        if audio:
            stream = source.streams[audio["index"]]
            lanes[stream.index] = _Lane(stream, _audio_target(out, audio), start)
        clock = next(iter(lanes.values()))  # progress follows video when there is video
        for packet in source.demux([lane.source for lane in lanes.values()]):
            lane = lanes[packet.stream.index]
            for frame in lane.decode(packet):
                lane.retime(frame)
                if frame.pts is not None:
                    seconds = float(frame.pts * frame.time_base)
                    _check_length(seconds, max_seconds)
                    if lane is clock:
                        progress.at(seconds)
                out.mux(lane.target.encode(frame))
                lane.frames += 1
        for lane in lanes.values():
            if lane.frames == 0:
                raise TranscodeError(f"no {lane.source.type} frame could be decoded", code="undecodable")
            out.mux(lane.target.encode(None))
    return size


def _video_target(
    out: av.container.OutputContainer, source: av.stream.Stream, size: tuple[int, int] | None, rotation: int
) -> av.stream.Stream:
    rate = source.average_rate or source.guessed_rate or Fraction(30)
    target = out.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
    target.width, target.height = size
    target.pix_fmt = "yuv420p"
    target.codec_context.time_base = source.time_base  # the source's clock: variable frame rate survives
    if rotation:
        target.set_display_rotation(rotation)
    return target


def _audio_target(out: av.container.OutputContainer, audio: dict) -> av.stream.Stream:
    rate = audio["sample_rate"] if audio["sample_rate"] in AAC_RATES else 48000
    target = out.add_stream("aac", rate=rate)
    target.layout = "mono" if audio["channels"] == 1 else "stereo"
    target.bit_rate = AAC_BIT_RATE
    return target


def _start_seconds(container: av.container.InputContainer) -> float:
    return container.start_time / av.time_base if container.start_time else 0.0


def _check_length(seconds: float, max_seconds: float) -> None:
    """The probed duration can lie (or be missing): stop as soon as the media itself runs long."""
    if seconds > max_seconds:
        raise TranscodeError("clip runs past its limit", code="too_long", seconds=seconds)
