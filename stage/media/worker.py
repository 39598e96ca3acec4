"""``python -m stage.media.worker KIND SRC LIBRARY [--max-bytes N] [--max-seconds S] [--sha256 H --size N]``

Ingest runs in its own process, so the server's event loop never decodes an image or transcodes a
clip. It prints ``progress <fraction>`` lines while it works, then one JSON line: ``{"ok": true,
"media": "<sha256>.<ext>", ...}`` or ``{"ok": false, "error": {"code", "message"}}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage.errors import StageError
from stage.media.library import MediaLibrary

log = logging.getLogger(__name__)


def ingest(kind: str, src: Path, library: MediaLibrary, max_bytes: int, max_seconds: float,
           sha256: str = "", size: int = -1) -> dict[str, Any]:
    # Imported here, in the worker process: the server imports this module only to start workers,
    # and PyAV and Pillow were most of the 1.1 s a `stage serve` took to start.
    from stage.media.clips import ingest_clip
    from stage.media.images import ingest_image
    from stage.media.takes import ingest_take

    if kind == "take":
        return ingest_take(src, library, sha256, size)
    if kind in ("photo", "drawing"):
        image = ingest_image(src.read_bytes(), purpose=kind, max_bytes=max_bytes)  # type: ignore[arg-type]
        return {"media": library.put(image.data, image.ext), "mime": image.mime,
                "width": image.width, "height": image.height}
    with tempfile.TemporaryDirectory(dir=library.root) as tmp:
        clip = ingest_clip(src, Path(tmp), max_bytes=max_bytes, max_seconds=max_seconds,
                           progress=lambda fraction: say(f"progress {fraction:.3f}"))
        name = library.put_file(clip.path, clip.path.suffix.lstrip("."))
    return {"media": name, "mime": clip.mime, "duration": clip.duration, "has_video": clip.has_video,
            "width": clip.width, "height": clip.height, "transcoded": clip.transcoded}


def run(kind: str, src: Path, library: Path, *, max_bytes: int, max_seconds: float,
        on_progress: Callable[[float], None], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the worker as a child process and return its result (the caller's side of the protocol).

    Under gevent or eventlet the patched subprocess module waits cooperatively, so phones keep being
    served while a clip transcodes.
    """
    proc = subprocess.Popen([sys.executable, "-m", "stage.media.worker", kind, str(src), str(library),
                             "--max-bytes", str(max_bytes), "--max-seconds", str(max_seconds), *extra],
                            stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = {"ok": False, "error": {"code": "undecodable", "message": "the media worker failed"}}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("progress "):
            on_progress(float(line.split()[1]))
        elif line.startswith("{"):
            result = json.loads(line)
    proc.wait()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stage.media.worker")
    parser.add_argument("kind", choices=["photo", "drawing", "clip", "take"])
    parser.add_argument("src", type=Path)
    parser.add_argument("library", type=Path)
    parser.add_argument("--max-bytes", type=int, default=25 * 1024 * 1024)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--sha256", default="", help="take: the sha256 the agent computed")
    parser.add_argument("--size", type=int, default=-1, help="take: the size the agent sent")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    answer(lambda: ingest(args.kind, args.src, MediaLibrary(args.library), args.max_bytes, args.max_seconds,
                          args.sha256, args.size),
           lambda exc: {"code": "undecodable", "message": "that file could not be read as media"}, f"ingest of {args.src}")
    return 0


def answer(work: Callable[[], dict[str, Any]], failure: Callable[[Exception], dict[str, str]], what: str) -> None:
    """A worker's last line: ``{"ok": true, ...}`` with what ``work`` made, or its error (a StageError's
    own code and message; anything unexpected is logged and answered with ``failure(exc)``)."""
    try:
        result: dict[str, Any] = {"ok": True, **work()}
    except StageError as exc:
        result = exc.as_ack()
    except Exception as exc:
        log.exception("%s failed", what)
        result = {"ok": False, "error": failure(exc)}
    say(json.dumps(result))


def say(line: str) -> None:
    """One line of a worker's protocol on stdout (read by the server), flushed at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
