"""The spool directory: takes in progress (fragmented MP4), finished takes awaiting upload, and the
sidecar JSON that says which is which, so a crashed agent can finish and upload them on start-up.

Layout per take: ``<name>.part.mp4`` while recording (fragmented, playable up to the last fragment
after a SIGKILL), ``<name>.mp4`` once remuxed with faststart, ``<name>.json`` (slate, state, figures).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av

log = logging.getLogger(__name__)


def slate_name(slate: dict[str, Any], take_id: str) -> str:
    """File name from the slate (show, cue, story, performer, take number) plus the take id."""
    parts = [slate.get("show") or "show", f"cue{slate.get('cue') or '-'}",
             f"story-{slate.get('story') or slate.get('story_id') or '-'}",
             slate.get("performer") or "performer", f"take{slate.get('take') or 0}", take_id[:8]]
    text = "_".join(str(p) for p in parts)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:180].strip("-")


def slate_title(slate: dict[str, Any]) -> str:
    def get(key: str) -> str:
        return str(slate.get(key) or "-")
    return f"{get('show')} — cue {get('cue')} — {get('story')} — {get('performer')} — take {get('take')}"


def slate_metadata(slate: dict[str, Any]) -> dict[str, str]:
    """The MP4 tags a take carries: its slate as a readable title and as JSON."""
    return {"title": slate_title(slate), "comment": json.dumps(slate)}


@dataclass
class SpooledTake:
    spool: Path
    name: str
    take_id: str
    slate: dict[str, Any]
    state: str = "recording"  # recording | finished | failed | uploaded
    reason: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def part(self) -> Path:
        return self.spool / f"{self.name}.part.mp4"

    @property
    def final(self) -> Path:
        return self.spool / f"{self.name}.mp4"

    @property
    def sidecar(self) -> Path:
        return self.spool / f"{self.name}.json"

    def save(self) -> None:
        data = {"take_id": self.take_id, "slate": self.slate, "state": self.state, "reason": self.reason,
                "figures": self.figures}
        tmp = self.sidecar.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.sidecar)  # atomic: a crash never leaves half a sidecar

    @classmethod
    def load(cls, sidecar: Path) -> "SpooledTake":
        data = json.loads(sidecar.read_text())
        return cls(sidecar.parent, sidecar.name[: -len(".json")], data["take_id"], data["slate"],
                   data["state"], data.get("reason"), data.get("figures") or {})

    def discard(self) -> None:
        for path in (self.part, self.final, self.sidecar):
            path.unlink(missing_ok=True)


def remux(src: Path, dst: Path, metadata: dict[str, str]) -> dict[str, Any]:
    """Copy the playable packets of ``src`` into a faststart MP4; returns duration, frames, size.

    A fragmented file cut by a crash ends in a partial fragment: demuxing stops with an error there,
    and everything before it is kept.
    """
    tmp = dst.with_suffix(".tmp.mp4")
    need = 2 * src.stat().st_size + (1 << 20)  # faststart writes the file, then moves the index in front
    if shutil.disk_usage(dst.parent).free < need:
        raise OSError(errno.ENOSPC, f"no room to finalise {src.name} (needs {need // 1_000_000} MB)")
    try:
        figures = _remux(src, tmp, metadata)
        _verify(tmp, figures["frames"])
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave half a file that looks like a take
        raise
    os.replace(tmp, dst)
    return {**figures, "size": dst.stat().st_size}


def _verify(path: Path, frames: int) -> None:
    """A write error can go unreported through the muxer: read the result back before trusting it."""
    with av.open(str(path)) as check:
        counted = sum(1 for p in check.demux(video=0) if p.dts is not None) if check.streams.video else 0
    if counted != frames:
        raise OSError(errno.EIO, f"finalised take has {counted} of {frames} frames")


def _remux(src: Path, tmp: Path, metadata: dict[str, str]) -> dict[str, Any]:
    frames, end, width, height = 0, 0.0, 0, 0
    with av.open(str(src)) as source:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "faststart"}) as out:
            out.metadata.update(metadata)
            mapping = {}
            for stream in source.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = out.add_stream_from_template(stream)
                    if stream.type == "video":
                        width, height = stream.codec_context.width, stream.codec_context.height
            try:
                for packet in source.demux(*[s for s in source.streams if s.index in mapping]):
                    if packet.dts is None or packet.is_corrupt:
                        continue
                    if packet.stream.type == "video":
                        frames += 1
                    if packet.pts is not None:
                        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                    packet.stream = mapping[packet.stream.index]
                    out.mux(packet)
            except av.error.FFmpegError as exc:
                log.warning("take %s ends in a damaged fragment (kept what was playable): %s", src.name, exc)
    return {"duration": round(end, 3), "frames": frames, "width": width, "height": height}


def recover(spool: Path) -> list[SpooledTake]:
    """Finish takes a crash left behind; returns every take that still waits for upload."""
    waiting = []
    for sidecar in sorted(spool.glob("*.json")):
        try:
            take = SpooledTake.load(sidecar)
        except (ValueError, KeyError, OSError) as exc:
            log.warning("spool: unreadable sidecar %s: %s", sidecar.name, exc)
            continue
        if take.state == "uploaded":
            continue
        if not take.final.exists() and take.part.exists():
            try:
                take.figures.update(remux(take.part, take.final, slate_metadata(take.slate)))
            except (av.error.FFmpegError, OSError) as exc:
                log.error("spool: take %s is not recoverable: %s", take.take_id, exc)
                continue
            take.part.unlink()
            take.state, take.reason = "finished", take.reason or "recovered after the agent stopped mid-take"
            take.save()
            log.info("spool: recovered take %s (%.1f s)", take.take_id, take.figures.get("duration", 0))
        if take.final.exists():
            waiting.append(take)
    return waiting
