"""Media ingest: what phones upload, made safe and playable before anyone sees it.

- `stage.media.images` — `ingest_image()`: sniff, size and pixel caps, decode (JPEG, PNG, WebP, GIF,
  HEIC), turn upright, re-encode (photo JPEG / drawing PNG) with no metadata. SVG is refused.
- `stage.media.clips` — `probe_clip()`, `ingest_clip()`: probe with PyAV, cap size and length, remux
  H.264/AAC MP4 as is, transcode everything else to H.264 + AAC MP4 (sound alone to .m4a).
- `stage.media.transcoder` — the remux and transcode loops behind `ingest_clip()`.
- `stage.media.library` — `MediaLibrary`: content-addressed files (``<sha256>.<ext>``) beside the database.
- `stage.media.sizes` — sizes and durations worded for phone users.

Errors are `StageError`s with stable codes and messages a phone user can read. Nothing here imports
Flask, Socket.IO, gevent or eventlet; the web layer calls these functions (image work is CPU-bound:
run clip ingest off the event loop).
"""
