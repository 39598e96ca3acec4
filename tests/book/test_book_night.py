"""The book of a real night: phones on a running ``stage serve`` write, draw, photograph and volunteer; a take is
stored as the capture server stores it; the crew makes a remix card; a curator keeps a book; ``stage book`` prints it.

The night is made once for this module (a server, ten phones, a take, a rendered remix card) and the book is
rendered once, by the command line as a person types it; each test then reads one side of the result back with
poppler. The pages it must have, in order (cover, inside cover and title page come first):

  4-5   Ada's story facing Bea's drawing of it
  6-7   Eve's story (with emoji) facing a still of Cy's take of it, filmed by Sam
  8-9   فاطمة's Arabic story facing the crew's remix card of it with Jo's drawing
  10-11 Gus's 2,000-character story under Dee's photo, across a spread
  12    Ivy's story alone;  13  Kai's drawing alone;  14  the contributors' index
Hal's story was put in the book and withdrawn afterwards: it is left out, and the command says so.
"""

from __future__ import annotations

import csv
import html as html_module
import io
import json
import re
import shutil
import sqlite3
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
import requests

from stage.book import edits
from stage.records import book as book_store
from stage.records import curation, lineage
from stage.records.store import open_store
from stage.remix import saving
from tests.book import poppler
from tests.book.nights import photo_jpeg
from tests.book.test_render import long_story
from tests.conftest import PeerFactory, demo_show
from tests.peers import go
from tests.remix.conftest import RemixNight
from tests.remix.test_archive import export, stage_cli
from tests.remix.test_lineage_credits import card_of
from tests.stage_process import StageProcess

STORIES = {
    "Ada": "Tell no one about this cape. It only flies on Tuesdays, and only when nobody is looking.",
    "Eve": "The cape 🦸 remembered every shoulder it had ever been worn on, and it liked mine best. 🎭",
    "فاطمة": "لا تخبر أحداً عن هذه العباءة. إنها تطير فقط يوم الثلاثاء، عندما لا ينظر إليها أحد.",
    "Gus": long_story(2000),
    "Ivy": "She sewed the cape from the curtains of a theatre that had closed, and it still smelled of applause.",
    "Hal": "A story its writer took back after the curator had put it in the book.",
}
CREDIT_LINES = {5: "Words by Ada · Drawing by Bea", 7: "Words by Eve · Performance by Cy · Camera by Sam",
                11: "Words by Gus · Photograph by Dee", 12: "Words by Ivy",
                13: "Words by Ivy · Drawing by Kai"}  # Kai drew Ivy's story: her words are in the drawing too
CREDITED = {"Ada", "Bea", "Eve", "Cy", "Sam", "فاطمة", "Jo", saving.CREW_AUTHOR, "Gus", "Dee", "Ivy", "Kai"}
PAGES = 3 + 2 * 4 + 1 + 1 + 1  # the front, four pairs (the long story a spread), two pages alone, the index


@dataclass
class Rendered:
    night: RemixNight
    out: Path
    run: object
    card: str


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tmp = tmp_path_factory.mktemp("book-night")
    show = demo_show(tmp)
    show.write_text(show.read_text().replace("    max_words: 30\n    max_chars: 280", "    max_chars: 5000"))
    server = StageProcess(show, tmp / "data").start()
    peers = PeerFactory(server)
    try:
        night, card = _the_night(server, peers, tmp)
    finally:
        server.stop()
        peers.close_all()
    _the_book(night)
    out = tmp / "out"
    out.mkdir()
    run = poppler.stage_book("--data", str(night.data), "--out", str(out / "tonight.pdf"))
    assert run.returncode == 0, run.stderr
    return Rendered(night, out / "tonight.pdf", run, card)


def _the_night(server: StageProcess, peers: PeerFactory, tmp: Path) -> tuple[RemixNight, str]:
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join, the prompt opens, the wall
    night = RemixNight(server, peers, moderator)
    for name in ("Ada", "Bea", "Cy", "Dee", "Eve", "فاطمة", "Gus", "Hal", "Ivy", "Jo", "Kai"):
        night.phones[name] = peers.phone(name)
    night.ids = {name: night.write_story(name, text) for name, text in STORIES.items()}  # type: ignore[attr-defined]
    for record in night.ids.values():  # type: ignore[attr-defined]
        night.approve(record)
    ids = night.ids  # type: ignore[attr-defined]
    ids["bea"] = night.draw("Bea", ids["Ada"])
    ids["jo"] = night.draw("Jo", ids["فاطمة"])
    ids["kai"] = night.draw("Kai", ids["Ivy"])
    response = requests.post(f"{server.url}/api/uploads", data={
        "id": str(uuid.uuid4()), "kind": "photo", "prompt": "cape", "device_key": night.phones["Dee"].device_key},
        files={"file": ("cape.jpg", photo_jpeg(), "image/jpeg")}, timeout=60)
    assert response.status_code == 200, response.text
    ids["dee"] = response.json()["record"]["id"]
    for name in ("bea", "jo", "kai", "dee"):
        night.approve(ids[name])
    consent = night.phones["Cy"].joined["consent"]["version"]
    assert night.phones["Cy"].call("volunteer", {"consent_version": consent, "story": ids["Eve"]})["ok"]
    night.story = ids["Eve"]
    ids["take"] = night.take("Cy", tmp, 1, operator="Sam", in_point=0.5, out_point=3.5, circled=True)
    ids["card"] = card_of(night, ids["فاطمة"], ids["jo"])
    return night, ids["card"]


def _the_book(night: RemixNight) -> None:
    """The curator's book, kept with the night (the server stopped: the show is over), then Hal takes his back."""
    ids = night.ids  # type: ignore[attr-defined]
    store = open_store(None, night.data)
    try:
        graph = lineage.load(store)
        title = "The Cape Book"
        changes = [edits.settings(title, "Made in one night by everyone in the room. Thank you.", None),
                   edits.cover(graph, ids["dee"]),
                   edits.add_page(graph, ids["Ada"], ids["bea"]),
                   edits.add_page(graph, ids["Eve"], ids["take"], 1.0),
                   edits.add_page(graph, ids["فاطمة"], ids["card"]),
                   edits.add_page(graph, ids["Gus"], ids["dee"]),
                   edits.add_page(graph, ids["Ivy"], None),
                   edits.add_page(graph, None, ids["kai"]),
                   edits.add_page(graph, ids["Hal"], None)]
        for change in changes:
            book_store.edit(store, "crew:curator", title, change)
        curation.withdraw(store, night.phones["Hal"].participant["id"], ids["Hal"])
    finally:
        store.close()


def test_every_story_and_every_credit_line_is_printed_and_the_withdrawn_one_is_not(book: Rendered):
    texts = poppler.page_texts(book.out)
    assert len(texts) == poppler.pages(book.out) == PAGES
    assert texts[0].startswith("The Cape Book") and "Made in one night by everyone in the room." in texts[2]
    assert STORIES["Ada"] in texts[4] and STORIES["Ivy"] in texts[11]
    assert "The cape 🦸 remembered every shoulder" in texts[6] and "🎭" in texts[6]
    for word in ("تخبر", "العباءة", "تطير", "فاطمة"):  # poppler gives Arabic back word by word (not لا: its ligature)
        assert word in texts[8], (word, texts[8])
    assert "Drawing by Jo · Remix by " + saving.CREW_AUTHOR in texts[8]
    spread = poppler.words(book.out, 10, 11)
    for sentence in STORIES["Gus"].split(". "):
        assert sentence.strip(".") in spread
    for page, line in CREDIT_LINES.items():
        assert line in texts[page - 1], (page, texts[page - 1])
    whole = " ".join(texts)
    assert "Hal" not in whole and STORIES["Hal"][:30] not in whole
    assert "Hal" not in book.out.with_suffix(".html").read_text()
    said = book.run.stdout  # type: ignore[attr-defined]
    assert "Page 7 is left out: its story may no longer be shown (withdrawn by its author)." in said
    assert f"{book.out}: {PAGES} pages" in " ".join(said.split())


def test_each_picture_is_embedded_at_its_size_and_the_pages_have_bleed(book: Rendered):
    with av.open(str(book.night.data / "media" / _media(book, book.card))) as card:
        card_size = (card.streams.video[0].width, card.streams.video[0].height)
    found = {(i.page, i.width, i.height) for i in poppler.images(book.out) if i.type == "image" and i.width >= 300}
    assert found == {(1, 1600, 1200),  # the cover: Dee's 4:3 photo fills the page into the bleed, 1,200 px < 1,571
                     (4, 600, 400),  # Bea's drawing, as drawn (finer than 300 dpi would be wasted; it is not)
                     (6, *framed(1280, 720)),  # the still of Cy's take (16:9: whole, inside the margins)
                     (8, *framed(*card_size)),  # the remix card's still
                     (10, *framed(1600, 1200)),  # Dee's photo again, above Gus's story
                     (13, 600, 400)}  # Kai's drawing
    assert poppler.boxes(book.out, 1)["TrimBox"] == (0.0, 0.0, 360.0, 360.0)
    assert poppler.boxes(book.out, 1)["BleedBox"] == (-8.5, -8.5, 368.5, 368.5)


def test_every_font_is_embedded_emoji_in_colour_and_arabic_in_a_font_that_has_it(book: Rendered):
    fonts = poppler.fonts(book.out)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    names = {name for name, _ in fonts}
    assert "Noto-Color-Emoji" in names and "DejaVu-Sans" in names and "DejaVu-Serif" in names


def test_the_index_lists_exactly_the_credited_people_with_their_pages(book: Rendered):
    index = poppler.text(book.out, PAGES, PAGES)
    assert index.startswith("Contributors")
    summary = re.search(r"(\d+) contributions from (\d+) people tonight; these 6 pages by 12 of them", index)
    assert summary, index
    layout = subprocess_layout(book.out, PAGES)
    entries = [line for line in layout if ". . ." in line]
    assert len(entries) == len(CREDITED) == 12
    for name in CREDITED:
        assert name in index
    said = {entry.split(" ")[0]: entry for entry in entries}
    assert re.fullmatch(r"Bea drawing[. ]+ 4", said["Bea"]) and re.fullmatch(r"Sam camera[. ]+ 6", said["Sam"])
    # Dee's photo is also the cover: the cover is her work too, in the index and in the share statement.
    assert re.fullmatch(r"Dee photograph[. ]+ cover, 10", said["Dee"]), said
    statement = list(csv.DictReader(io.StringIO(book.out.with_name("tonight-share.csv").read_text())))
    assert {row["name"] for row in statement} == CREDITED
    rows = {row["name"]: row for row in statement}
    assert {k: rows["Bea"][k] for k in ("roles", "pages", "page_count")} == {"roles": "drew", "pages": "4",
                                                                            "page_count": "1"}
    assert rows["Sam"]["roles"] == "filmed" and rows["Sam"]["pages"] == "6"
    assert rows["Dee"]["pages"] == "cover;10" and rows["Dee"]["page_count"] == "2"
    assert sum(float(row["share"]) for row in statement) == pytest.approx(1.0, abs=1e-9)


def test_the_pages_look_like_a_small_press_book(book: Rendered):
    made = poppler.snapshot(book.out, "night", [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14])
    assert all(path.stat().st_size > 1000 for path in made)


def framed(width: int, height: int) -> tuple[int, int]:
    """A picture framed in the 103 mm type area at 300 dpi (1,217 px) on its long side, if it had more."""
    scale = min(1.0, 1217 / max(width, height))
    return round(width * scale), round(height * scale)


def subprocess_layout(pdf: Path, page: int) -> list[str]:
    import subprocess

    out = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


def _media(book: Rendered, record: str) -> str:
    store = open_store(None, book.night.data)
    try:
        return lineage.load(store).nodes[record].media  # type: ignore[return-value]
    finally:
        store.close()


def test_the_archive_keeps_the_book_its_share_statement_and_its_render(book: Rendered, tmp_path: Path):
    data = tmp_path / "data"  # a copy of the night: this test withdraws a story the others print
    shutil.copytree(book.night.data, data)
    rendered = data / "book"  # where the console's render goes (stage/book/jobs.py): the archive takes the last one
    rendered.mkdir()
    run = poppler.stage_book("--data", str(data), "--out", str(rendered / "book.pdf"),
                             "--records", str(rendered / "book-records.json"))
    assert run.returncode == 0, run.stderr
    archive = tmp_path / "night.zip"
    done = export(data, archive)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        assert {"book/book.json", "book/share.csv", "book/share.html", "book/book.pdf", "book/book.html"} <= names
        stored = json.loads(z.read("book/book.json"))
        statement = list(csv.DictReader(io.StringIO(z.read("book/share.csv").decode())))
        page = z.read("book/share.html").decode()
    assert stored["title"] == "The Cape Book" and len(stored["pages"]) == 7  # Hal's page stays stored, not printed
    assert {row["name"] for row in statement} == CREDITED
    assert sum(float(row["share"]) for row in statement) == pytest.approx(1.0, abs=1e-9)
    for name in CREDITED:
        assert html_module.escape(name) in page
    imported = tmp_path / "imported"
    again = stage_cli("import", str(archive), "--data", str(imported))
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(imported / "stage.db") as db:
        value = db.execute("SELECT value FROM state WHERE key = 'book'").fetchone()[0]
    assert json.loads(value) == stored, "the book comes back with the night"

    # Ivy withdraws her story after the render: the render is a copy with her words in it, so it stays out.
    store = open_store(None, data)
    try:
        curation.withdraw(store, book.night.phones["Ivy"].participant["id"], book.night.ids["Ivy"])  # type: ignore
    finally:
        store.close()
    later = tmp_path / "later.zip"
    assert export(data, later).returncode == 0
    with zipfile.ZipFile(later) as z:
        names = set(z.namelist())
        statement = list(csv.DictReader(io.StringIO(z.read("book/share.csv").decode())))
    assert "book/book.pdf" not in names and "book/book.html" not in names and "book/book.json" in names
    assert "Ivy" not in {row["name"] for row in statement}
