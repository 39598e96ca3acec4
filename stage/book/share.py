"""The share statement: each contributor's pages and roles, and their share of the book, as CSV.

hitRECord paid the Tiny Book's contributors from its profits; a show that does the same needs a fair basis it
can explain in one sentence: each page of the book is split equally among the people on it, and a person's
share is the sum of their parts divided by the number of pages. Shares are rounded to 4 decimals by the
largest remainder, so the column always adds up to exactly 1. ``stage book`` writes it beside the PDF with the
printed page numbers; ``stage export`` calls :func:`rows` without a render, and then the pages are the book's
own entries (1, 2, 3...). A page on which nobody is credited counts for nobody and is not in the denominator.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from stage.book.contents import BookContents

FIELDS = ("name", "roles", "pages", "page_count", "share")
PLACES = 4
# A cell starting with one of these is a formula to a spreadsheet: a name like "=HYPERLINK(...)" must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(contents: BookContents, printed: dict[str, list[int]] | None = None) -> list[dict[str, Any]]:
    """One row per contributor, in the index's order. ``printed``: the printed page numbers of each book page
    (by page id) from a render; a contributor's ``pages`` are where their book pages begin, as in the index.
    The cover picture counts as one more page, shared among the people whose work it is (``pages``: "cover")."""
    page_ids = {page.entry: page.id for page in contents.pages}
    on_page: dict[int, int] = {}
    for person in contents.contributors:
        for entry in _units(person):
            on_page[entry] = on_page.get(entry, 0) + 1
    credited_pages = len(on_page)
    exact = []
    for person in contents.contributors:
        part = sum((Fraction(1, on_page[entry]) for entry in _units(person)), Fraction(0))
        exact.append(part / credited_pages if credited_pages else Fraction(0))
    shares = _rounded(exact)
    out = []
    for person, share in zip(contents.contributors, shares):
        if printed is None:
            numbers: list[int | str] = list(sorted(person.entries))
        else:
            numbers = sorted(printed[page_ids[entry]][0] for entry in person.entries)
        if person.cover:
            numbers.insert(0, "cover")
        out.append({"name": person.name, "roles": list(person.roles), "pages": numbers,
                    "page_count": len(_units(person)), "share": share})
    return out


COVER = 0  # the cover's place among a person's units: before the book's pages (entries count from 1)


def _units(person: Any) -> list[int]:
    return ([COVER] if person.cover else []) + list(person.entries)


def to_csv(statement: list[dict[str, Any]]) -> str:
    """The statement as CSV: a header row, then one row per contributor (no comment lines: plain CSV)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in statement:
        writer.writerow([_text(row["name"]), ";".join(row["roles"]), ";".join(str(n) for n in row["pages"]),
                         row["page_count"], f"{row['share']:.{PLACES}f}"])
    return text.getvalue()


def _rounded(exact: list[Fraction]) -> list[float]:
    """Round to PLACES decimals so that the rounded shares keep the exact sum (1, or 0 for nobody)."""
    unit = 10 ** PLACES
    scaled = [share * unit for share in exact]
    floors = [int(value) for value in scaled]
    missing = round(sum(scaled)) - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [value / unit for value in floors]


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def to_html(contents: BookContents, statement: list[dict[str, Any]], printed: bool = False) -> str:
    """The statement as a page to read (the archive's ``book-share.html``): names as text, never markup."""
    from stage.book import render, typeset  # the book's own templates and wording

    summary = typeset.summary(contents.night_contributions, contents.night_people, len(contents.pages),
                              len(contents.contributors))
    return render.templates().get_template("share.html").render(title=contents.title, rows=statement,
                                                                summary=summary, printed=printed)
