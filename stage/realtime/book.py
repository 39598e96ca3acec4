"""Crew events for the night's book (mixed into ``CrewNamespace``): read it, edit it, suggestions, render.

Every edit is applied to the latest stored book (:func:`stage.records.book.edit`) and the new book goes to
the whole crew room, so every console showing the book (``/book``) stays in step; the editor's own ack
carries it too. Rendering never runs here: :class:`stage.book.jobs.BookJobs` runs ``stage book`` in its own
process and a background task relays its progress to the crew room.
"""

from __future__ import annotations

from typing import Any

from stage.book import edits, jobs, suggestions, view
from stage.realtime import payloads
from stage.realtime.base import handler
from stage.realtime.rooms import CREW
from stage.records import book as book_store
from stage.records import lineage as lineage_module


class BookEvents:
    """Needs ``self.night``, ``self.socketio`` and ``self.actor`` from the namespace."""

    def _book_view(self, book: dict[str, Any] | None = None,
                   lineage: lineage_module.Lineage | None = None) -> dict[str, Any]:
        night = self.night  # type: ignore[attr-defined]
        book = book or book_store.current(night.store, night.show.title)
        return view.console_view(night.store, book, lineage or lineage_module.load(night.store))

    def _edited(self, change: edits.Change, lineage: lineage_module.Lineage | None = None) -> dict[str, Any]:
        """``lineage``: the one the change was checked against (an edit changes no record): read the night once."""
        night = self.night  # type: ignore[attr-defined]
        book = book_store.edit(night.store, self.actor, night.show.title, change)  # type: ignore[attr-defined]
        shown = self._book_view(book, lineage)
        self.socketio.emit("book", shown, namespace="/crew", to=CREW)  # type: ignore[attr-defined]
        return shown

    def _lineage(self) -> lineage_module.Lineage:
        return lineage_module.load(self.night.store)  # type: ignore[attr-defined]

    def _book_jobs(self) -> jobs.BookJobs:
        socketio = self.socketio  # type: ignore[attr-defined]

        def emit(event: str, data: dict[str, Any]) -> None:
            socketio.emit(event, data, namespace="/crew", to=CREW)

        return jobs.for_night(self.night, spawn=socketio.start_background_task, emit=emit,  # type: ignore[attr-defined]
                             sleep=socketio.sleep)

    @handler(payloads.Empty)
    def on_book_get(self, _: payloads.Empty) -> dict[str, Any]:
        shown = self._book_view()
        shown["render"] = self._book_jobs().last()
        return shown

    @handler(payloads.Empty)
    def on_book_suggestions(self, _: payloads.Empty) -> dict[str, Any]:
        night = self.night  # type: ignore[attr-defined]
        lineage = self._lineage()
        book = book_store.current(night.store, night.show.title)
        found = suggestions.suggest(night.store, lineage, book)
        usable = view.usable(lineage)
        return {"suggestions": [{**s, "story": view.record_view(lineage, s["story"]),
                                 "picture": view.record_view(lineage, s["picture"])} for s in found],
                "stories": usable["stories"], "pictures": usable["pictures"]}

    @handler(payloads.BookSettings)
    def on_book_settings(self, payload: payloads.BookSettings) -> dict[str, Any]:
        trim = {k: v for k, v in (("size_mm", payload.size_mm), ("margin_mm", payload.margin_mm),
                                  ("bleed_mm", payload.bleed_mm)) if v is not None}
        return self._edited(edits.settings(payload.title, payload.foreword, trim or None))

    @handler(payloads.BookCover)
    def on_book_cover(self, payload: payloads.BookCover) -> dict[str, Any]:
        lineage = self._lineage()
        return self._edited(edits.cover(lineage, payload.record, payload.at), lineage)

    @handler(payloads.BookPage)
    def on_book_add(self, payload: payloads.BookPage) -> dict[str, Any]:
        lineage = self._lineage()
        return self._edited(edits.add_page(lineage, payload.story, payload.picture, payload.at, payload.index), lineage)

    @handler(payloads.BookPageUpdate)
    def on_book_update(self, payload: payloads.BookPageUpdate) -> dict[str, Any]:
        lineage = self._lineage()
        return self._edited(edits.update_page(lineage, payload.page, payload.story, payload.picture, payload.at),
                            lineage)

    @handler(payloads.BookPageRef)
    def on_book_remove(self, payload: payloads.BookPageRef) -> dict[str, Any]:
        return self._edited(edits.remove_page(payload.page))

    @handler(payloads.BookMove)
    def on_book_move(self, payload: payloads.BookMove) -> dict[str, Any]:
        return self._edited(edits.move_page(payload.page, payload.index))

    @handler(payloads.Empty)
    def on_book_render(self, _: payloads.Empty) -> dict[str, Any]:
        return {"render": self._book_jobs().start(self.actor)}  # type: ignore[attr-defined]
