"""How each part of the book is set: type by the length of a story, the layout of a page, the words of a credit.

Pure functions of the book's contents, no IO: :mod:`stage.book.render` turns them into the template's view.

A small press sets a tiny story large and a long one small, and gives a long one the room of a spread rather
than cutting it: nothing here fixes a box's height, so WeasyPrint flows any text that is longer than its page
onto the next one (never cut, never overflowing). The sizes are chosen so that, on the Tiny Book's 5-inch page
with 12 mm margins, each class of story fits the room it is given (a 2,000-character story fits its spread).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from stage.book.contents import Credit, Page

# The roles of stage.records.credits.ROLES as a credit line says them ("Words by Ada · Drawing by Bea").
ROLE_WORDS = {"wrote": "words", "drew": "drawing", "photographed": "photograph", "performed": "performance",
              "filmed": "camera", "remix": "remix"}
# A photo or a still fills its page into the bleed when cropping it square loses at most a quarter of it (a
# 4:3 photo does; a 16:9 take would lose its performers at the sides: it sits whole inside the margins). A
# drawing is made on a phone's blank canvas and a remix card is a composition with words: both sit whole.
FULL_BLEED_KINDS = ("photo", "take", "clip")
LONG = 900  # characters: above this a story shares a spread with its picture instead of facing it
STACKS = 250  # characters: at most this, a story fits under its picture on one page (set no larger than STACKED)
FIRST_PAGE = 4  # the book's first page comes after the cover, the inside of the cover and the title page


@dataclass(frozen=True)
class Type:
    size_pt: float
    leading: float  # line height as a multiple of the size
    sink: float  # white space above the first line, as a share of the page's type area
    condensed: bool  # DejaVu Serif Condensed: more words to the line for the smallest sizes


# (longest story, type): a few steps, as a compositor keeps a few sizes of one face.
SCALE = ((100, Type(17.0, 1.32, 0.28, False)), (250, Type(14.0, 1.38, 0.20, False)),
         (500, Type(11.5, 1.40, 0.10, False)), (LONG, Type(9.5, 1.40, 0.0, False)))
SMALLEST = Type(8.5, 1.36, 0.0, True)
STACKED = 2  # the SCALE step a story under its picture is set in at most (11.5 pt)


def type_for(text: str) -> Type:
    length = len(text)
    for longest, chosen in SCALE:
        if length <= longest:
            return chosen
    return SMALLEST


def layout_of(page: Page) -> str:
    """``facing``: the picture on the left-hand page, the story on the right; ``spread``: a long story set
    under its picture across two pages; ``story`` or ``picture``: a page with only one of them."""
    if page.picture is None:
        return "story"
    if page.text is None:
        return "picture"
    return "spread" if len(page.text) > LONG else "facing"


def plan(pages: list[Page], first: int = FIRST_PAGE) -> dict[str, str]:
    """Each page's layout, so that a story and its picture always face each other on one spread. A pair that
    would begin on a right-hand page (after a page alone) is set as one page instead, the picture above the
    story, when the story is short enough; a longer one gets a blank page before it, as a press would do.
    (This plans with each layout's usual length; the style sheet's ``break-before: left`` keeps pairs facing
    even if a page runs longer than planned.)"""
    layouts, at = {}, first
    for page in pages:
        layout = layout_of(page)
        if layout in ("facing", "spread") and at % 2 == 1:
            if layout == "facing" and len(page.text or "") <= STACKS:
                layout = "stacked"
            else:
                at += 1  # the blank right-hand page before it
        layouts[page.id] = layout
        at += 2 if layout in ("facing", "spread") else 1
    return layouts


def fills_page(kind: str, width: int, height: int) -> bool:
    return kind in FULL_BLEED_KINDS and max(width, height) * 3 <= min(width, height) * 4  # 4:3 or squarer


def direction(text: str | None) -> str:
    """``rtl`` or ``ltr`` by the first strongly directional character, HTML's ``dir="auto"`` rule (WeasyPrint
    has no rule for ``auto``; browsers reach the same answer), so Arabic is set and aligned right to left."""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def paragraphs(text: str | None) -> list[str]:
    """A story's paragraphs (blank lines part them; a single line break stays one, see ``white-space``)."""
    if not text:
        return []
    parts = [part.strip("\n") for part in text.replace("\r\n", "\n").split("\n\n")]
    return [part for part in parts if part.strip()]


def credit_parts(credits: list[Credit]) -> list[tuple[str, str | None]]:
    """A page's credit line as (text, direction) runs: names carry their direction (an Arabic name inside an
    English line), the words between them none. People of one role are said together: "Drawing by Bea and Cy"."""
    by_role: dict[str, list[str]] = {}
    for credit in credits:
        names = by_role.setdefault(credit["role"], [])
        if credit["name"] not in names:
            names.append(credit["name"])
    parts: list[tuple[str, str | None]] = []
    for number, (role, names) in enumerate(by_role.items()):
        if number:
            parts.append((" · ", None))
        parts.append((f"{ROLE_WORDS.get(role, role).capitalize()} by ", None))
        for position, name in enumerate(names):
            if position:
                parts.append((" and " if position == len(names) - 1 else ", ", None))
            parts.append((name, direction(name)))
    return parts


def credit_line(credits: list[Credit]) -> str:
    return "".join(text for text, _ in credit_parts(credits))


def roles_said(roles: list[str]) -> str:
    return ", ".join(ROLE_WORDS.get(role, role) for role in roles)


def summary(night_contributions: int, night_people: int, pages: int, people: int) -> str:
    """The index's first line: "N contributions from M people tonight; these K pages by J of them"."""
    return (f"{_count(night_contributions, 'contribution', 'contributions')} from "
            f"{_count(night_people, 'person', 'people')} tonight; "
            f"{'this page' if pages == 1 else f'these {pages} pages'} by {people} of them")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
