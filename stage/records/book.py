"""The night's book as the store keeps it: one document in ``state`` (key ``book``). No Flask.

Consoles change it by small edits (:mod:`stage.book.edits`), each applied to the latest copy inside one write
transaction (writers run one at a time on both backends), so two consoles editing at once never lose each
other's work: pages are addressed by their id, never by where they were when the console last looked. Each
edit bumps ``revision`` and writes an audit row. The document names records; what they are is read again
when the book is shown or rendered (:mod:`stage.book.contents`), so a record withdrawn since leaves the book.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any

from stage.records.lineage import Queryable
from stage.records.store import Store

KEY = "book"
# The Tiny Book of Tiny Stories is a 5-inch square; a print shop asks for 3 mm of bleed on every edge.
TRIM = {"size_mm": 127.0, "margin_mm": 12.0, "bleed_mm": 3.0}


def empty(title: str) -> dict[str, Any]:
    return {"revision": 0, "title": title, "foreword": "", "cover": None, "trim": dict(TRIM), "pages": [],
            "updated_at": None, "updated_by": None}


def current(store: Queryable, title: str) -> dict[str, Any]:
    """The stored book, or an empty one titled as the show (nothing is stored until the first edit). ``store``:
    the night's store, or an archive's snapshot of it (``stage book``, ``stage export``)."""
    rows = store.query("SELECT value FROM state WHERE key = ?", (KEY,))
    return _complete(json.loads(rows[0]["value"]), title) if rows else empty(title)


def edit(store: Store, actor: str, title: str, change: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Apply ``change`` (which edits the document in place and returns a line for the audit log, or raises a
    StageError that leaves the book as it was) to the latest stored copy; returns the new book."""
    with store.transaction() as db:
        row = db.execute("SELECT value FROM state WHERE key = ?", (KEY,)).fetchone()
        book = _complete(json.loads(row["value"]), title) if row else empty(title)
        draft = copy.deepcopy(book)
        summary = change(draft)
        draft["revision"] = book["revision"] + 1
        draft["updated_at"], draft["updated_by"] = time.time(), actor
        Store.put_state(db, KEY, draft)
        Store.audit(db, actor, "book", None, change=summary, revision=draft["revision"])
    return draft


def names(book: dict[str, Any]) -> set[str]:
    """Every record the book names: its pages' stories and pictures and its cover."""
    named = {p[k] for p in book["pages"] for k in ("story", "picture") if p.get(k)}
    if book.get("cover"):
        named.add(book["cover"]["record"])
    return named


def projected(store: Queryable) -> dict[str, int]:
    """How often each record was put on a projector (a cue or "Show on main"), most first: the host's and the
    moderators' favourites, for the book's suggestions."""
    rows = store.query("SELECT detail FROM audit WHERE action = 'scene' AND detail LIKE ?", ('%"record"%',))
    seen: dict[str, int] = {}
    for row in rows:
        record = json.loads(row["detail"]).get("record")
        if record:
            seen[record] = seen.get(record, 0) + 1
    return dict(sorted(seen.items(), key=lambda item: -item[1]))


def _complete(book: dict[str, Any], title: str) -> dict[str, Any]:
    """A stored book with every field (one written by an older Stage may lack some)."""
    out = empty(title)
    out.update(book)
    out["trim"] = {**TRIM, **(book.get("trim") or {})}
    return out
