"""The share statement's arithmetic and the words the book prints (credit lines, directions, type by length)."""

from __future__ import annotations

import csv
import io

from stage.book import share, typeset
from stage.book.contents import BookContents, Contributor, Page


def contents(pages: int, people: list[tuple[str, list[str], list[int]]]) -> BookContents:
    return BookContents(
        title="Capes", foreword="", trim={}, cover=None, left_out=[],
        pages=[Page(f"p{n}", n, None, f"story {n}", None, None, []) for n in range(1, pages + 1)],
        contributors=[Contributor(f"participant:{name}", name, roles, entries) for name, roles, entries in people],
        night_contributions=0, night_people=0)


def test_each_page_is_split_among_its_people_and_the_shares_add_up_to_exactly_one():
    book = contents(3, [("Ada", ["wrote"], [1]), ("Bea", ["drew"], [1, 2]), ("Cy", ["performed"], [1]),
                        ("Dee", ["wrote", "photographed"], [3])])
    rows = share.rows(book)
    # page 1: a third each for Ada, Bea and Cy; page 2 all Bea's; page 3 all Dee's; each over 3 pages.
    assert [(r["name"], r["pages"], r["page_count"], r["share"]) for r in rows] == [
        ("Ada", [1], 1, 0.1111), ("Bea", [1, 2], 2, 0.4445), ("Cy", [1], 1, 0.1111), ("Dee", [3], 1, 0.3333)]
    assert round(sum(r["share"] for r in rows), 10) == 1.0
    printed = share.rows(book, {"p1": [4, 5], "p2": [6, 7], "p3": [8]})
    assert [r["pages"] for r in printed] == [[4], [4, 6], [4], [8]]  # where each of their pages begins


def test_largest_remainders_keep_the_sum_for_awkward_splits():
    people = [(f"P{n}", ["wrote"], [1]) for n in range(7)]  # one page, seven people: 1/7 each
    rows = share.rows(contents(1, people))
    assert sorted(r["share"] for r in rows) == [0.1428] * 3 + [0.1429] * 4
    assert round(sum(r["share"] for r in rows), 10) == 1.0
    assert share.rows(contents(1, [])) == []


def test_the_csv_is_a_header_and_one_row_each_and_a_name_is_never_a_formula():
    rows = share.rows(contents(2, [("=HYPERLINK(\"x\")", ["wrote"], [1]), ("Bea", ["drew", "remix"], [1, 2])]))
    text = share.to_csv(rows)
    assert text.splitlines()[0] == "name,roles,pages,page_count,share" and not text.startswith("#")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed == [{"name": "'=HYPERLINK(\"x\")", "roles": "wrote", "pages": "1", "page_count": "1",
                       "share": "0.2500"},
                      {"name": "Bea", "roles": "drew;remix", "pages": "1;2", "page_count": "2", "share": "0.7500"}]


def test_credit_lines_say_each_role_once_with_everyone_in_it():
    credits = [{"name": "Ada", "role": "wrote"}, {"name": "Bea", "role": "drew"}, {"name": "Cy", "role": "drew"},
               {"name": "Dee", "role": "drew"}, {"name": "Sam", "role": "filmed"},
               {"name": "Stage crew", "role": "remix"}]
    assert typeset.credit_line(credits) == \
        "Words by Ada · Drawing by Bea, Cy and Dee · Camera by Sam · Remix by Stage crew"
    assert typeset.credit_line([{"name": "Eve", "role": "photographed"}, {"name": "Cy", "role": "performed"}]) == \
        "Photograph by Eve · Performance by Cy"
    parts = typeset.credit_parts([{"name": "فاطمة", "role": "wrote"}, {"name": "Bea", "role": "drew"}])
    assert parts == [("Words by ", None), ("فاطمة", "rtl"), (" · ", None), ("Drawing by ", None), ("Bea", "ltr")]


def test_direction_is_the_first_strong_character_as_dir_auto_decides():
    assert typeset.direction("فاطمة") == "rtl" and typeset.direction("2024 — لا تخبر أحداً") == "rtl"
    assert typeset.direction("Ada") == "ltr" and typeset.direction("🎭 The cape") == "ltr"
    assert typeset.direction("") == typeset.direction(None) == typeset.direction("123 !") == "ltr"


def test_type_shrinks_as_a_story_grows_and_long_ones_take_a_spread():
    sizes = [typeset.type_for("x" * n).size_pt for n in (30, 200, 450, 800, 2000, 5000)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 2 * sizes[-1] / 1.2
    picture = object()
    short = Page("a", 1, "s", "x" * 800, "Ada", picture, [])  # type: ignore[arg-type]
    long = Page("b", 2, "s", "x" * 901, "Ada", picture, [])  # type: ignore[arg-type]
    assert [typeset.layout_of(p) for p in (short, long)] == ["facing", "spread"]
    assert typeset.layout_of(Page("c", 3, "s", "words", "Ada", None, [])) == "story"
    assert typeset.layout_of(Page("d", 4, None, None, None, picture, [])) == "picture"  # type: ignore[arg-type]
    assert typeset.paragraphs("One.\n\n\nTwo,\nstill two.\n\n") == ["One.", "Two,\nstill two."]


def test_a_photo_fills_its_page_only_when_cropping_it_square_loses_little():
    assert typeset.fills_page("photo", 1600, 1200) and typeset.fills_page("take", 1080, 1080)
    assert not typeset.fills_page("take", 1280, 720) and not typeset.fills_page("photo", 1200, 1601)
    assert not typeset.fills_page("drawing", 800, 800) and not typeset.fills_page("remix", 1080, 1080)
