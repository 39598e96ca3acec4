"""The book as the curator's console shows it: every stored page with its words, picture and credits, and
the pages that will be left out with why. No Flask: ``stage.realtime.book`` sends it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stage.book import contents as contents_module
from stage.book import edits
from stage.records.lineage import Lineage, Node, Queryable


def console_view(store: Queryable, book: dict[str, Any], lineage: Lineage) -> dict[str, Any]:
    # The console shows media by URL (/media/...): the files' paths, which only a render needs, are not read.
    contents = contents_module.read(store, Path("media"), book, lineage)
    kept = {page.id: page for page in contents.pages}
    pages = []
    for position, stored in enumerate(book["pages"], start=1):
        page = kept.get(stored["id"])
        out: dict[str, Any] = {"id": stored["id"], "position": position, "at": stored.get("at"),
                               "story": record_view(lineage, stored.get("story")),
                               "picture": record_view(lineage, stored.get("picture")),
                               "credits": page.credits if page else [], "left_out": None}
        if page is None:
            out["left_out"] = contents_module.why_left_out(lineage, stored)
        pages.append(out)
    cover = book.get("cover")
    return {"book": {k: book[k] for k in ("revision", "title", "foreword", "trim", "updated_at", "updated_by")},
            "cover": {"record": record_view(lineage, cover["record"]), "at": cover.get("at")} if cover else None,
            "pages": pages, "left_out": contents.left_out,
            "totals": {"pages": len(contents.pages), "people": len(contents.contributors),
                       "night_contributions": contents.night_contributions, "night_people": contents.night_people}}


def record_view(lineage: Lineage, record_id: str | None) -> dict[str, Any] | None:
    if not record_id:
        return None
    node: Node | None = lineage.nodes.get(record_id)
    if node is None or not lineage.visible(record_id):  # withheld: what it was, not what it said or showed
        return {"id": record_id, "kind": node.kind if node else None, "author": None, "text": None, "media": None}
    out = node.public()
    return {k: out[k] for k in ("id", "kind", "author", "text", "media")}


def usable(lineage: Lineage, limit: int = 3000) -> dict[str, list[dict[str, Any]]]:
    """Everything the curator may put in the book, newest first: stories, and pictures (with media)."""
    shown = sorted((n for i, n in lineage.nodes.items() if lineage.visible(i)), key=lambda n: -n.created_at)
    stories = [n for n in shown if n.kind in edits.STORY_KINDS][:limit]
    pictures = [n for n in shown if n.kind in edits.PICTURE_KINDS and n.media][:limit]
    return {"stories": [_listed(lineage, n) for n in stories], "pictures": [_listed(lineage, n) for n in pictures]}


def _listed(lineage: Lineage, node: Node) -> dict[str, Any]:
    out = record_view(lineage, node.id) or {}
    out["moving"] = node.kind in edits.MOVING or (node.media or "").endswith(edits.MOVING_SUFFIXES)
    if node.take:
        out["duration"] = node.take.get("duration")
        out["number"] = node.take.get("number")
    return out
