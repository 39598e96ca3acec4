"""The edits a curator makes to the night's book, each a change for :func:`stage.records.book.edit`.

A page is one story with its picture (a drawing, a photo, a remix card, or a still from a take or a clip at a
chosen second); either may be missing, not both. Only records that may be shown are accepted (approved, not
withdrawn, no rehearsal phone, no take whose performer withdrew consent: :mod:`stage.records.lineage`); what
is withheld later is left out when the book is shown or rendered. Every refusal names what was wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from stage.errors import InvalidInput, NotFound
from stage.records.lineage import Lineage

Book = dict[str, Any]
Change = Callable[[Book], str]

STORY_KINDS = ("story",)
PICTURE_KINDS = ("drawing", "photo", "remix", "take", "clip")
MOVING = ("take", "clip")  # a picture from these is a still, taken at ``at`` seconds
MAX_PAGES = 400
MOVING_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".m4v")  # a file a still is taken from (pictures.py too)
SMALLEST_PRINTED_MM = 30  # a page whose margins leave less than this across prints nothing worth reading


def settings(title: str | None = None, foreword: str | None = None, trim: dict[str, float] | None = None) -> Change:
    def change(book: Book) -> str:
        said = []
        if title is not None:
            if not title.strip():
                raise InvalidInput("the book needs a title", code="no_title")
            book["title"] = title.strip()
            said.append("title")
        if foreword is not None:
            book["foreword"] = foreword.strip()
            said.append("foreword")
        if trim is not None:
            merged = {**book["trim"], **trim}
            if merged["size_mm"] - 2 * merged["margin_mm"] < SMALLEST_PRINTED_MM:
                raise InvalidInput(f"a {merged['size_mm']:g} mm page with {merged['margin_mm']:g} mm margins leaves "
                                   f"less than {SMALLEST_PRINTED_MM} mm to print on", code="bad_trim")
            book["trim"] = merged
            said.append("trim")
        return "set " + ", ".join(said) if said else "nothing"
    return change


def cover(lineage: Lineage, record: str | None, at: float | None = None) -> Change:
    picture = _picture(lineage, record, at) if record else None

    def change(book: Book) -> str:
        book["cover"] = picture
        return f"cover {record}" if record else "no cover"
    return change


def add_page(lineage: Lineage, story: str | None, picture: str | None, at: float | None = None,
             index: int | None = None) -> Change:
    page = _page(lineage, story, picture, at)

    def change(book: Book) -> str:
        if len(book["pages"]) >= MAX_PAGES:
            raise InvalidInput(f"a book has at most {MAX_PAGES} pages", code="book_full")
        if story and any(p["story"] == story for p in book["pages"]):
            raise InvalidInput("this story is already in the book", code="already_in_book")
        at_index = len(book["pages"]) if index is None else max(0, min(index, len(book["pages"])))
        book["pages"].insert(at_index, page)
        return f"page {page['id']} added at {at_index + 1}"
    return change


def update_page(lineage: Lineage, page_id: str, story: str | None, picture: str | None,
                at: float | None = None) -> Change:
    """Replace a page's story and picture (pairing an illustration, changing a still's second)."""
    replacement = _page(lineage, story, picture, at)

    def change(book: Book) -> str:
        page = _find(book, page_id)
        if story and any(p["story"] == story and p["id"] != page_id for p in book["pages"]):
            raise InvalidInput("this story is already on another page", code="already_in_book")
        page.update({k: v for k, v in replacement.items() if k != "id"})
        return f"page {page_id} changed"
    return change


def remove_page(page_id: str) -> Change:
    def change(book: Book) -> str:
        book["pages"].remove(_find(book, page_id))
        return f"page {page_id} removed"
    return change


def move_page(page_id: str, index: int) -> Change:
    def change(book: Book) -> str:
        page = _find(book, page_id)
        book["pages"].remove(page)
        to = max(0, min(index, len(book["pages"])))
        book["pages"].insert(to, page)
        return f"page {page_id} moved to {to + 1}"
    return change


def _find(book: Book, page_id: str) -> dict[str, Any]:
    for page in book["pages"]:
        if page["id"] == page_id:
            return page
    raise NotFound("that page is no longer in the book (another console removed it)", code="no_page")


def _page(lineage: Lineage, story: str | None, picture: str | None, at: float | None) -> dict[str, Any]:
    if not story and not picture:
        raise InvalidInput("a page needs a story, a picture or both", code="empty_page")
    if story:
        _usable(lineage, story, STORY_KINDS, "story")
    chosen = _picture(lineage, picture, at) if picture else None
    return {"id": str(uuid.uuid4()), "story": story, "picture": chosen["record"] if chosen else None,
            "at": chosen["at"] if chosen else None}


def _picture(lineage: Lineage, record: str, at: float | None) -> dict[str, Any]:
    node = _usable(lineage, record, PICTURE_KINDS, "picture")
    moving = node.kind in MOVING or (node.media or "").endswith(MOVING_SUFFIXES)
    if not node.media:
        raise InvalidInput(f"this {node.kind} has no picture to print", code="no_media")
    if not moving:
        return {"record": record, "at": None}
    # A take's kept part is between its in and out points: the trimmed-off slate and bow are not the take.
    info = node.take or {}
    start = float(info.get("in_point") or 0.0)
    end = info.get("out_point") or info.get("duration")
    second = start if at is None else float(at)
    if second < start or (end is not None and second > float(end)):
        raise InvalidInput(f"the still must be taken between {start:.1f} and {float(end or 0):.1f} s",
                           code="bad_still")
    return {"record": record, "at": second}


def _usable(lineage: Lineage, record: str, kinds: tuple[str, ...], what: str):
    node = lineage.nodes.get(record)
    if node is None or not lineage.visible(record):
        raise InvalidInput(f"that {what} cannot go in the book: only approved work that may be shown does",
                           code="not_shown")
    if node.kind not in kinds:
        raise InvalidInput(f"a {node.kind} cannot be the {what} of a page", code="wrong_kind")
    return node
