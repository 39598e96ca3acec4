"""Real takes for remix tests: an H.264 + AAC MP4 made with PyAV, stored as a take record + ``takes`` row.

Until the capture fixtures are merged this stands in for a capture rig's upload: the file is real
(a moving test pattern and a tone), put into the real media library, and the rows are what
``docs/capture.md`` says the server commits for a finished take.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from stage.media.library import MediaLibrary

TONE_HZ = 440.0


def make_take_file(path: Path, seconds: float = 4.0, width: int = 1280, height: int = 720, fps: int = 30) -> Path:
    """A moving colour pattern (a bright bar sweeping across) with a 440 Hz tone: H.264 + AAC in MP4."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        audio = out.add_stream("aac", rate=48000, layout="stereo")
        ys, xs = np.mgrid[0:height, 0:width]
        base = np.stack([(xs * 255 // width), (ys * 255 // height), np.full_like(xs, 90)], axis=-1).astype(np.uint8)
        for n in range(int(seconds * fps)):
            image = base.copy()
            x = (n * 23) % (width - 40)
            image[:, x:x + 40] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        total = int(seconds * 48000)
        for start in range(0, total, 1024):
            t = (np.arange(start, min(start + 1024, total)) / 48000.0).astype(np.float32)
            tone = (0.3 * np.sin(2 * math.pi * TONE_HZ * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def insert_take(db_path: Path, media_dir: Path, file: Path, story_id: str, performer_id: str | None, *,
                rig: str = "stage-left", number: int = 1, in_point: float | None = None,
                out_point: float | None = None, circled: bool = False, performer: str = "",
                operator: str | None = None) -> str:
    """Put the file in the media library and commit the take as the server does (record + takes row): its
    author the performer, the camera operator (None: nobody on camera) in its slate."""
    name = MediaLibrary(media_dir).put(file.read_bytes(), "mp4")
    take_id = str(uuid.uuid4())
    now = time.time()
    with av.open(str(media_dir / name)) as probe:
        duration = float(probe.duration / av.time_base)
    slate = {"story_id": story_id, "performer_id": performer_id, "performer": performer, "operator": operator,
             "take": number}
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO records (id, kind, status, crew_author, author_name, media, created_at, updated_at)"
                   " VALUES (?, 'take', 'approved', 'Stage crew', ?, ?, ?, ?)",
                   (take_id, performer or None, name, now, now))
        db.execute("INSERT INTO record_sources (record_id, source_id, role) VALUES (?, ?, 'performs')",
                   (take_id, story_id))
        db.execute("INSERT INTO takes (record_id, rig, story_id, performer_id, number, duration, width, height,"
                   " slate, in_point, out_point, circled, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, 1280, 720, ?, ?, ?, ?, ?)",
                   (take_id, rig, story_id, performer_id, number, duration, json.dumps(slate), in_point, out_point,
                    int(circled), now))
    return take_id
