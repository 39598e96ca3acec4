"""The renderer in this process, on a night made through the store API: pages, type, pictures, the three files.

Everything is read back from the PDF with poppler (tests/book/poppler.py), as a print shop would read it.
"""

from __future__ import annotations

import csv
import io

import pytest
from PIL import Image

from stage.book import contents as contents_module
from stage.book import layout_check, stills, weasy
from stage.book.render import outputs, render
from stage.errors import InvalidInput
from stage.media.images import ImageError, ingest_image
from tests.book import poppler
from tests.book.nights import StoreNight, drawing_png, photo_jpeg

STORY = "Tell no one about this cape. It only flies on Tuesdays, and only when nobody is looking."
FRONT = 3  # the cover, the inside of the cover, the title page


def read(night: StoreNight):
    from stage.records import book as book_store

    return contents_module.read(night.store, night.data / "media", book_store.current(night.store, "Capes"))


def long_story(length: int) -> str:
    """Distinct sentences, so that finding each one proves none was lost."""
    out, n = [], 1
    while len(" ".join([*out, f"On night {n} the cape flew over roof {n * 7} and came back at dawn."])) <= length:
        out.append(f"On night {n} the cape flew over roof {n * 7} and came back at dawn.")
        n += 1
    return " ".join(out)


def test_a_book_is_three_files_with_every_page_credited(store_night: StoreNight, tmp_path):
    night = store_night
    first = night.story("Ada", STORY)
    drawing = night.picture("Bea", drawing_png(), source=first)
    second = night.story("Cy", "The cape was too big, so she grew.")
    photo = night.picture("Dee", photo_jpeg(), kind="photo")
    alone = night.story("Eve", "A story nobody drew.")
    night.book((first, drawing), (second, photo), (alone, None), foreword="Made tonight by all of you.")
    steps = []
    result = render(read(night), tmp_path / "tonight.pdf",
                    lambda stage, done, total: steps.append((stage, done, total)))

    assert (result.pdf, result.html, result.csv) == outputs(tmp_path / "tonight.pdf")
    assert [p.name for p in sorted(tmp_path.iterdir()) if p.is_file()] == [
        "tonight-share.csv", "tonight.html", "tonight.pdf"]  # and no temporary file left beside them
    # cover, inside cover, title; two facing pairs (picture left, story right); a page alone; the index.
    assert poppler.pages(result.pdf) == result.pages == FRONT + 2 + 2 + 1 + 1
    ids = [page["id"] for page in read(night).raw["pages"]]
    assert result.printed == {ids[0]: [4, 5], ids[1]: [6, 7], ids[2]: [8]}
    texts = poppler.page_texts(result.pdf)
    assert STORY in texts[4] and "Words by Ada · Drawing by Bea" in texts[4]
    assert "Words by Cy · Photograph by Dee" in texts[6] and "Words by Eve" in texts[7]
    assert texts[2] == "Capes Made tonight by all of you. 3"
    assert texts[8].startswith("Contributors 5 contributions from 5 people tonight; these 3 pages by 5 of them")
    for page in (3, 4, 5, 7, 8, 9):  # page numbers, printed where the page has a margin
        assert texts[page - 1].endswith(str(page)), texts[page - 1]
    assert texts[1] == "Capes Each page names the people whose work is on it; all of them are listed at the back."
    assert texts[0] == "Capes STORIES AND PICTURES BY 5 PEOPLE"  # and no page number on it
    stages = [s for s, _, _ in steps]
    assert stages.index("pictures") < stages.index("typesetting") < stages.index("writing the PDF") \
        < stages.index("HTML edition") < stages.index("share statement")
    assert all(0 <= done <= total for _, done, total in steps)

    statement = list(csv.DictReader(io.StringIO(result.csv.read_text())))
    assert [r["name"] for r in statement] == ["Ada", "Bea", "Cy", "Dee", "Eve"]
    assert statement[0] == {"name": "Ada", "roles": "wrote", "pages": "4", "page_count": "1", "share": "0.1667"}
    assert statement[4]["share"] == "0.3333" and sum(float(r["share"]) for r in statement) == pytest.approx(1)
    edition = result.html.read_text()
    assert edition.count("data:image/") == 2 and "file:" not in edition and "<script" not in edition
    assert "Words by <span class=\"name\" dir=\"ltr\">Ada</span>" in edition


def test_a_2000_character_story_fits_its_spread_and_a_longer_one_flows_on_uncut(store_night: StoreNight, tmp_path):
    night = store_night
    story = long_story(2000)
    assert 1950 <= len(story) <= 2000
    longest = long_story(5000)
    drawing = night.picture("Bea", drawing_png())
    other = night.picture("Bea", drawing_png(seed=3))
    first, second = night.story("Gus", story), night.story("Hal", longest)
    night.book((first, drawing), (second, other))
    result = render(read(night), tmp_path / "long.pdf")

    ids = [page["id"] for page in read(night).raw["pages"]]
    assert result.printed[ids[0]] == [4, 5], "the picture above the story's start, the rest on the facing page"
    spread = poppler.words(result.pdf, 4, 5)
    for sentence in story.split(". "):
        assert sentence.strip(".") in spread
    assert "Words by Gus · Drawing by Bea" in poppler.text(result.pdf, 5, 5)
    pages = result.printed[ids[1]]
    assert pages[0] == 6 and len(pages) >= 3, "5,000 characters take more than a spread; none is cut"
    flowed = poppler.words(result.pdf, pages[0], pages[-1])
    for sentence in longest.split(". "):
        assert sentence.strip(".") in flowed
    assert poppler.pages(result.pdf) == pages[-1] + 1  # and then the index


def test_the_layout_check_refuses_text_outside_its_page():
    HTML, _, _ = weasy.modules()  # noqa: N806  (as the renderer imports it: Pillow stays strict in this process)

    fits = HTML(string="<p>All of it on the page.</p>").render()
    layout_check.check(fits)
    cut = HTML(string="<style>@page { size: 50mm 50mm; margin: 5mm }</style>"
                      "<p style='position: absolute; top: 60mm'>Lost beyond the trim.</p>").render()
    with pytest.raises(layout_check.BookOverflow, match="^printed page 1: the text “Lost beyond the” runs off"):
        layout_check.check(cut)


def test_pictures_are_embedded_at_print_resolution_never_finer_never_upscaled(store_night: StoreNight, tmp_path):
    night = store_night
    big = night.picture("Dee", photo_jpeg((3000, 3000)), kind="photo")  # the phone ingest keeps 2048 px of it
    small = night.picture("Bea", drawing_png((600, 400)))
    night.book((night.story("Ada", STORY), big), (night.story("Cy", "Short."), small))
    result = render(read(night), tmp_path / "res.pdf")

    found = [i for i in poppler.images(result.pdf) if i.type == "image" and i.width >= 300]
    photo = next(i for i in found if i.page == 4)
    # 300 dpi across 127 mm and 3 mm of bleed each side is 1,571 px: the 2,048 px photo comes down to it.
    assert (photo.width, photo.height) == (1571, 1571) and 290 <= photo.x_ppi <= 310
    drawing = next(i for i in found if i.page == 6)
    assert (drawing.width, drawing.height) == (600, 400)
    assert poppler.boxes(result.pdf, 4)["TrimBox"] == (0.0, 0.0, 360.0, 360.0)  # 127 mm
    assert poppler.boxes(result.pdf, 4)["MediaBox"] == (-8.5, -8.5, 368.5, 368.5)  # 3 mm of bleed


def test_a_still_is_the_frame_at_its_second(store_night: StoreNight, tmp_path):
    from PIL import Image

    take = store_night.take("Cy", store_night.story("Ada", STORY), tmp_path, seconds=2.0)
    still = tmp_path / "still.jpg"
    assert stills.extract(store_night.media_of(take), 1.0, still) == (640, 360)
    # The test pattern's white bar is at x = 23 n mod 600 in frame n: frame 30 (1.0 s at 30 fps) has it at 90.
    row = Image.open(still).convert("L").crop((0, 180, 640, 181)).tobytes()
    bright = [x for x, value in enumerate(row) if value > 240]
    assert bright and 85 <= min(bright) <= 95 and 125 <= max(bright) <= 135


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_bad_picture_file_stops_the_render_naming_the_page_and_writes_nothing(store_night, tmp_path, damage):
    night = store_night
    fine, broken = night.picture("Bea", drawing_png()), night.picture("Bea", drawing_png(seed=5))
    night.book((night.story("Ada", STORY), fine), (night.story("Cy", "Second."), broken))
    media = night.media_of(broken)
    if damage == "missing":
        media.unlink()
    else:
        media.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(InvalidInput) as raised:
        render(read(night), tmp_path / "bad.pdf")
    said = {"missing": f"page 2: the drawing's file is missing ({media.name})",
            "corrupt": "page 2: the drawing's file is corrupt (it cannot be read as a picture)"}
    assert raised.value.message == said[damage]
    assert not list(tmp_path.glob("bad*")) and not list(tmp_path.glob(".bad*"))


def test_a_corrupt_take_stops_the_render_naming_the_page(store_night: StoreNight, tmp_path):
    night = store_night
    story = night.story("Ada", STORY)
    take = night.take("Cy", story, tmp_path)
    night.book((story, take, 1.0))
    media = night.media_of(take)
    media.write_bytes(media.read_bytes()[:2048])
    with pytest.raises(InvalidInput, match=r"^page 1: the take's video is corrupt"):
        render(read(night), tmp_path / "bad.pdf")
    assert not list(tmp_path.glob("bad*"))


def test_an_empty_book_and_a_book_whose_pages_all_left_say_so(store_night: StoreNight, tmp_path):
    night = store_night
    with pytest.raises(InvalidInput, match="^the book has no pages yet$"):
        render(read(night), tmp_path / "empty.pdf")
    story = night.story("Ada", STORY)
    night.book((story, None))
    night.withdraw("Ada", story)
    contents = read(night)
    assert contents.left_out == ["Page 1 is left out: its story may no longer be shown (withdrawn by its author)."]
    with pytest.raises(InvalidInput, match="^the book has no pages yet$"):
        render(contents, tmp_path / "empty.pdf")
    assert not list(tmp_path.glob("empty*"))


def test_a_story_always_faces_its_picture_across_a_spread(store_night: StoreNight, tmp_path):
    night = store_night
    drawings = [night.picture("Bea", drawing_png(seed=n)) for n in range(3)]
    alone, short, paired = night.story("Ada", "Alone."), night.story("Cy", "Short enough to sit under it."), \
        night.story("Eve", "Facing its drawing.")
    later, longer = night.story("Ivy", "Alone again."), night.story("Gus", long_story(400))
    night.book((alone, None), (short, drawings[0]), (paired, drawings[1]), (later, None), (longer, drawings[2]))
    result = render(read(night), tmp_path / "spreads.pdf")

    ids = [page["id"] for page in read(night).raw["pages"]]
    # Page 4 alone (a left-hand page); the short pair would begin on the right: one page, picture above (5);
    # the next pair faces on 6-7; 8 alone; 400 characters do not fit under a picture: a blank 9, the pair on 10-11.
    assert [result.printed[i] for i in ids] == [[4], [5], [6, 7], [8], [10, 11]]
    texts = poppler.page_texts(result.pdf)
    assert "Short enough to sit under it." in texts[4] and "Words by Cy · Drawing by Bea" in texts[4]
    assert texts[8] == "" and len(texts) == 12
    images = [i.page for i in poppler.images(result.pdf) if i.type == "image"]
    assert images == [5, 6, 10]


def test_typesetting_leaves_the_process_s_image_checks_strict(store_night: StoreNight, tmp_path):
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process when imported; after a render in
    this process a truncated JPEG must still be refused (stage/book/weasy.py)."""
    story = store_night.story("Ada", "A cape, and a book about it.")
    render(contents_module.read(store_night.store, store_night.data / "media", store_night.book((story, None))),
           tmp_path / "strict.pdf")
    noisy = Image.effect_noise((400, 300), 80).convert("RGB")
    whole = io.BytesIO()
    noisy.save(whole, "JPEG", quality=90)
    with pytest.raises(ImageError) as caught:
        ingest_image(whole.getvalue()[: len(whole.getvalue()) // 2], purpose="photo")
    assert caught.value.code == "undecodable"
