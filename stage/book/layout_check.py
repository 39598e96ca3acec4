"""A check of the typeset book before it is written: every line of text lies inside its page's type area.

The book's boxes have no fixed heights where text is (long stories flow onto the next page), so text should
never overflow; this proves it for each render instead of trusting it. A line outside its area (a word longer
than the page is wide, a box a future style sheet fixed too small) stops the render with the page named, rather
than sending a press a page with words cut at the trim. WeasyPrint keeps each laid-out page's box tree on
``Page._page_box``: read-only use of that attribute is the one place Stage looks inside WeasyPrint.
"""

from __future__ import annotations

import logging
from typing import Any

from stage.errors import StageError

log = logging.getLogger(__name__)
SLACK_PX = 1.0  # CSS px: rounding in the layout, not overflow


class BookOverflow(StageError):
    code = "book_overflow"


def check(document: Any) -> None:
    from stage.book import weasy

    _, _, boxes = weasy.modules()

    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        left, top = page_box.content_box_x(), page_box.content_box_y()
        right, bottom = left + page_box.width, top + page_box.height
        for box in _flow(page_box, boxes):
            if not isinstance(box, boxes.TextBox) or not box.text.strip():
                continue
            x, y = box.position_x, box.position_y
            if (x < left - SLACK_PX or y < top - SLACK_PX or x + box.width > right + SLACK_PX
                    or y + box.height > bottom + SLACK_PX):
                log.error("page %d: %r at (%.1f, %.1f) is outside the type area", number, box.text[:40], x, y)
                raise BookOverflow(f"printed page {number}: the text “{box.text[:40]}” runs off its page",
                                     code="book_overflow")


def _flow(box: Any, boxes: Any):  # type: ignore[no-untyped-def]
    """Every box on the page but its margin boxes (the page number sits in the margin on purpose)."""
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.MarginBox):
            continue
        yield child
        yield from _flow(child, boxes)
