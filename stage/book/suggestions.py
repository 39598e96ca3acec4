"""Pages the night already suggests, for the curator to start from. No Flask.

Four ways a night says what was best, each as ready-made pages (a story and a picture to pair with it):
the stories the audience recommended most; the takes the crew circled, with the story performed; the remix
cards, which already paired a story with a picture; what the host and the moderators put on a projector.
Only what may be shown is suggested, and never a story already in the book.
"""

from __future__ import annotations

from typing import Any

from stage.records import book as book_store
from stage.records import curation
from stage.records.lineage import Lineage, Node
from stage.records.store import Store

PICTURES = ("drawing", "photo", "remix")
LIMIT = 12  # per kind: enough to choose from on one screen


def suggest(store: Store, lineage: Lineage, book: dict[str, Any]) -> list[dict[str, Any]]:
    taken = {p["story"] for p in book["pages"] if p.get("story")}
    shown = {i: n for i, n in lineage.nodes.items() if lineage.visible(i)}
    out: list[dict[str, Any]] = []

    def offer(reason: str, why: str, story: str | None, picture: str | None, at: float | None = None) -> None:
        if story in taken and story is not None:
            return
        if any(o["story"] == story and o["picture"] == picture for o in out):
            return
        out.append({"reason": reason, "why": why, "story": story, "picture": picture, "at": at})

    stories = [i for i, n in shown.items() if n.kind == "story"]
    counts = curation.counts(store, stories) if stories else {}
    for story in sorted(stories, key=lambda i: (-counts.get(i, 0), shown[i].created_at))[:LIMIT]:
        if counts.get(story, 0):
            n = counts[story]
            offer("recommended", f"{n} recommendation{'s' if n != 1 else ''}", story, _picture_of(lineage, story))
    for take in [n for n in shown.values() if n.kind == "take" and (n.take or {}).get("circled")][:LIMIT]:
        offer("circled", f"take {take.take['number']}, circled", _story_of(lineage, take.id), take.id,
              _still_second(take))
    for remix in [n for n in shown.values() if n.kind == "remix"][:LIMIT * 2]:
        story, picture = _story_of(lineage, remix.id), _first(lineage, remix.id, ("drawing", "photo"))
        if story and picture:
            offer("remix", f"paired on a remix card by {remix.author}", story, picture)
    for record in list(book_store.projected(store))[:LIMIT]:
        node = shown.get(record)
        if node is None:
            continue
        if node.kind == "story":
            offer("projected", "put on a projector", record, _picture_of(lineage, record))
        elif node.kind in PICTURES:
            offer("projected", "put on a projector", _story_of(lineage, record), record)
    return out


def _picture_of(lineage: Lineage, story: str) -> str | None:
    """A picture made from this story (an illustration of it), the first one made."""
    for child in lineage.children.get(story, ()):
        if lineage.visible(child) and lineage.nodes[child].kind in ("drawing", "photo"):
            return child
    return None


def _story_of(lineage: Lineage, record: str) -> str | None:
    return _first(lineage, record, ("story",))


def _first(lineage: Lineage, record: str, kinds: tuple[str, ...]) -> str | None:
    for source in lineage.ancestors(record)[1:]:
        if lineage.nodes[source].kind in kinds:
            return source
    return None


def _still_second(take: Node) -> float:
    """A third of the way into the kept part of a take: past the slate, before the bow."""
    info = take.take or {}
    start = float(info.get("in_point") or 0.0)
    end = info.get("out_point") or info.get("duration") or start
    return round(start + (float(end) - start) / 3, 2)
