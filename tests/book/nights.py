"""A night made through the store API, in this process: phones, approved stories and pictures, takes, a book.

The real-server night (tests/book/test_book_night.py) proves the book from phone traffic; this tier is for the
many small cases (bad media, empty books, trims) and for bench/book.py, where starting a server per case would
only add time. Records are written by the functions the server's handlers call (participants.join,
submissions.submit_story/submit_media, moderation.decide), pictures go through the phone ingest (re-encoded
PNG/JPEG) into the media library, takes are stored as the capture server stores them (tests/remix/takes.py).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from stage.book import edits
from stage.media.images import ingest_image
from stage.media.library import MediaLibrary
from stage.records import book as book_store
from stage.records import curation, lineage, moderation, participants, submissions
from stage.records.store import open_store
from stage.show.models import Prompt
from tests.remix.takes import insert_take, make_take_file

PROMPT = Prompt(id="cape", text="A tiny story about a cape", kinds=("story", "drawing", "photo", "clip"),
                max_chars=5000)
CREW = "crew:curator"


def drawing_png(size: tuple[int, int] = (600, 400), seed: int = 0) -> bytes:
    """A phone drawing: strokes on a transparent canvas."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    w, h = size
    colour = ((200 + seed * 37) % 256, (30 + seed * 71) % 256, (60 + seed * 13) % 256, 255)
    draw.ellipse((w // 4, h // 8, 3 * w // 4, 7 * h // 8), fill=colour)
    draw.line((0, h - 10, w, 10), fill=(20, 20, 20, 255), width=max(2, w // 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def photo_jpeg(size: tuple[int, int] = (1600, 1200)) -> bytes:
    image = Image.new("RGB", size, (40, 90, 160))
    ImageDraw.Draw(image).ellipse((size[0] // 10, size[1] // 10, size[0] * 9 // 10, size[1] * 9 // 10),
                                  fill=(220, 160, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


class StoreNight:
    def __init__(self, data_dir: Path) -> None:
        self.data = Path(data_dir)
        self.store = open_store(None, self.data)
        self.media = MediaLibrary(self.data / "media")
        self.people: dict[str, str] = {}

    def phone(self, name: str) -> str:
        if name not in self.people:
            participant, _ = participants.join(self.store, uuid.uuid4().hex, name)
            self.people[name] = participant.id
        return self.people[name]

    def story(self, name: str, text: str, approve: bool = True) -> str:
        record, _ = submissions.submit_story(self.store, self.phone(name), PROMPT, str(uuid.uuid4()), text)
        return self._decided(record.id, approve)

    def picture(self, name: str, data: bytes, kind: str = "drawing", source: str | None = None) -> str:
        image = ingest_image(data, purpose="photo" if kind == "photo" else "drawing")
        media = self.media.put(image.data, image.ext)
        record, _ = submissions.submit_media(self.store, self.phone(name), str(uuid.uuid4()), kind, media, PROMPT,
                                             sources=(source,) if source else ())
        return self._decided(record.id, True)

    def take(self, performer: str, story: str, tmp: Path, operator: str | None = "Sam", seconds: float = 2.0) -> str:
        source = make_take_file(tmp / f"take-{uuid.uuid4().hex[:8]}.mp4", seconds=seconds, width=640, height=360)
        return insert_take(self.data / "stage.db", self.data / "media", source, story, self.phone(performer),
                           performer=performer, operator=operator)

    def withdraw(self, name: str, record: str) -> None:
        curation.withdraw(self.store, self.people[name], record)

    def media_of(self, record: str) -> Path:
        return self.data / "media" / lineage.load(self.store).nodes[record].media  # type: ignore[operator]

    def book(self, *pages: tuple[str | None, str | None] | tuple[str | None, str | None, float], title: str = "Capes",
             foreword: str = "", cover: str | None = None, trim: dict[str, float] | None = None) -> dict[str, Any]:
        """Store a book of these (story, picture[, second]) pages, as a curator's console would."""
        graph = lineage.load(self.store)
        book_store.edit(self.store, CREW, title, edits.settings(title, foreword, trim))
        if cover:
            book_store.edit(self.store, CREW, title, edits.cover(graph, cover))
        for page in pages:
            story, picture, *at = page
            book_store.edit(self.store, CREW, title, edits.add_page(graph, story, picture, at[0] if at else None))
        return book_store.current(self.store, title)

    def close(self) -> None:
        self.store.close()

    def _decided(self, record: str, approve: bool) -> str:
        if approve:
            moderation.decide(self.store, record, "approve", "moderator")
        return record
