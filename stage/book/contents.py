"""What the book holds right now: its stored document read against the night as it is. No Flask.

The document (:mod:`stage.records.book`) names records; here each page gets its words, its picture's file
and everyone to credit, transitively through lineage (the writer; whoever drew, photographed or filmed the
picture and every source of a remix card; the performer and the camera operator of a take still; the story
a take performed). A page whose story or picture may no longer be shown (withdrawn, rejected, hidden, a
performer who withdrew consent, a rehearsal phone) is left out, and ``left_out`` says so in words the
console shows. The renderer (:mod:`stage.book.render`) and the console both read this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stage.records import credits as credits_module
from stage.records import lineage as lineage_module
from stage.records import remixes
from stage.records.lineage import Lineage, Queryable

Credit = dict[str, str]  # {"name", "role"}: the roles of stage.records.credits.ROLES


@dataclass
class Picture:
    record: str
    kind: str  # drawing, photo, remix, take, clip
    media: Path  # the stored file (an image, or the video a still is taken from)
    at: float | None  # the second of the still, for a take or a clip (None: the file is the picture)
    author: str
    credits: list[Credit]

    @property
    def is_still(self) -> bool:
        return self.at is not None


@dataclass
class Page:
    id: str
    entry: int  # its place among the book's pages, from 1 (printed page numbers are the renderer's)
    story: str | None  # the story's record id
    text: str | None  # the story's words, as written
    author: str | None  # the story's writer, as credited
    picture: Picture | None
    credits: list[Credit]  # everyone on this page, in credits order, each person and role once


@dataclass
class Contributor:
    key: str  # "participant:<id>" or "crew:<name>": two people with one name stay two
    name: str
    roles: list[str]
    entries: list[int]  # the book's pages (by entry) they are on
    cover: bool = False  # their work is (in) the cover picture


@dataclass
class BookContents:
    title: str
    foreword: str
    trim: dict[str, float]
    cover: Picture | None
    pages: list[Page]
    left_out: list[str]
    contributors: list[Contributor]
    night_contributions: int  # approved work tonight that may be shown (stories, pictures, clips, takes, remixes)
    night_people: int  # everyone credited for any of it
    revision: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    records: list[str] = field(default_factory=list)  # every record printed or credited (pages, cover, sources)


def read(store: Queryable, media_dir: Path, book: dict[str, Any], lineage: Lineage | None = None) -> BookContents:
    lineage = lineage or lineage_module.load(store)
    # A remix card is printed from its designed poster (the PNG the card's video was made from), not a frame.
    named = [p.get("picture") for p in book["pages"]] + [(book.get("cover") or {}).get("record")]
    posters = remixes.posters(store, [i for i in named if i and i in lineage.nodes
                                      and lineage.nodes[i].kind == "remix"])
    pages, left_out, people = [], [], {}
    for position, stored in enumerate(book["pages"], start=1):
        reason = why_left_out(lineage, stored)
        if reason:
            left_out.append(f"Page {position} is left out: {reason}.")
            continue
        page = _page(lineage, media_dir, stored, len(pages) + 1, posters)
        pages.append(page)
        for key, name, role in _people_on(lineage, stored):
            person = _credit(people, key, name, role)
            if page.entry not in person.entries:
                person.entries.append(page.entry)
    cover = None
    if book.get("cover"):
        if _visible(lineage, book["cover"]["record"]):
            cover = _picture(lineage, media_dir, book["cover"]["record"], book["cover"].get("at"), posters)
            # The cover is somebody's work too: its people are in the index and the share statement.
            for key, name, role in _people_on(lineage, {"picture": book["cover"]["record"]}):
                _credit(people, key, name, role).cover = True
        else:
            left_out.append("The cover picture may no longer be shown: the book has a plain cover.")
    for person in people.values():
        person.roles.sort(key=credits_module.ROLES.index)
    printed = [p.get(k) for p in book["pages"] if not why_left_out(lineage, p) for k in ("story", "picture")]
    printed.append(cover.record if cover else None)
    records = sorted({source for record in printed if record for source in lineage.ancestors(record)})
    shown = [i for i, n in lineage.nodes.items() if lineage.visible(i)]
    return BookContents(
        title=book["title"], foreword=book.get("foreword", ""), trim=dict(book["trim"]), cover=cover, pages=pages,
        left_out=left_out,
        contributors=sorted(people.values(), key=lambda p: (p.entries[0] if p.entries else 0, p.name.casefold())),
        night_contributions=len(shown), night_people=len(credits_module.roll_of(lineage)),
        revision=book.get("revision", 0), raw=book, records=records)


def _credit(people: dict[str, Contributor], key: str, name: str, role: str) -> Contributor:
    person = people.setdefault(key, Contributor(key, name, [], []))
    if role not in person.roles:
        person.roles.append(role)
    return person


def _visible(lineage: Lineage, record: str | None) -> bool:
    return record is None or lineage.visible(record)


def why_left_out(lineage: Lineage, stored: dict[str, Any]) -> str | None:
    for what in ("story", "picture"):
        record = stored.get(what)
        if record and not lineage.visible(record):
            node = lineage.nodes.get(record)
            why = node.withheld if node else "deleted"
            return f"its {what} may no longer be shown ({_WHY.get(why or '', why)})"
    return None


_WHY = {"withdrawn": "withdrawn by its author", "rejected": "rejected or hidden by a moderator",
        "consent_withdrawn": "the performer withdrew consent", "rehearsal": "a rehearsal phone",
        "deleted": "deleted", "pending": "not approved"}


def _page(lineage: Lineage, media_dir: Path, stored: dict[str, Any], entry: int, posters: dict[str, str]) -> Page:
    story = lineage.nodes[stored["story"]] if stored.get("story") else None
    picture = (_picture(lineage, media_dir, stored["picture"], stored.get("at"), posters) if stored.get("picture")
               else None)
    found = [(key, name, role) for key, name, role in _people_on(lineage, stored)]
    unique = list(dict.fromkeys((name, role, key) for key, name, role in found))
    ordered = sorted(unique, key=lambda c: credits_module.ROLES.index(c[1]))
    return Page(id=stored["id"], entry=entry, story=story.id if story else None, text=story.text if story else None,
                author=story.author if story else None, picture=picture,
                credits=[{"name": name, "role": role} for name, role, _key in ordered])


def _picture(lineage: Lineage, media_dir: Path, record: str, at: float | None, posters: dict[str, str]) -> Picture:
    node = lineage.nodes[record]
    poster = posters.get(record)
    return Picture(record=record, kind=node.kind, media=media_dir / (poster or node.media or ""),
                   at=None if poster else at, author=node.author, credits=credits_module.in_lineage(lineage, record))


def _people_on(lineage: Lineage, stored: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, name, role) of everyone on a page: its records and everything they were made from."""
    out = []
    for what in ("story", "picture"):
        record = stored.get(what)
        if record:
            for source in lineage.ancestors(record):
                for (kind, ident), name, role in credits_module.credited(lineage.nodes[source]):
                    out.append((f"{kind}:{ident}", name, role))
    return out
