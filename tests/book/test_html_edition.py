"""The HTML edition in Chromium: one file that opens anywhere, its pictures inside it, nothing fetched, and on a
phone as readable as on a desk."""

from __future__ import annotations

import pytest

from stage.book import contents as contents_module
from stage.book.render import render
from stage.records import book as book_store
from tests.book.nights import StoreNight, drawing_png, photo_jpeg

pytestmark = pytest.mark.browser


def test_the_html_edition_is_self_contained_and_shows_every_page(store_night: StoreNight, tmp_path, pages, shot):
    night = store_night
    story = night.story("Ada", "Tell no one about this cape. It only flies on Tuesdays.")
    arabic = night.story("فاطمة", "لا تخبر أحداً عن هذه العباءة.")
    night.book((story, night.picture("Bea", drawing_png(), source=story)),
               (arabic, night.picture("Dee", photo_jpeg(), kind="photo")),
               (night.story("Eve", "<b>not bold</b> & <script>alert(1)</script>"), None),
               foreword="Made tonight.", cover=None)
    result = render(contents_module.read(night.store, night.data / "media", book_store.current(night.store, "")),
                    tmp_path / "tonight.pdf")

    requested: list[str] = []
    for page, name in ((pages.desktop("edition", 1280, 900), "desktop"), (pages.phone(), "phone")):
        page.on("request", lambda request: requested.append(request.url))
        page.goto(result.html.as_uri())
        loaded = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
        assert loaded == [True, True]
        assert page.locator(".story").nth(2).inner_text() == "<b>not bold</b> & <script>alert(1)</script>"
        assert page.locator("script").count() == 0
        assert page.locator(".story[dir=rtl]").count() == 1
        assert page.locator(".folio").all_inner_texts() == ["4–5", "6–7", "8"]
        assert page.locator(".people .refs a").first.get_attribute("href").startswith("#page-")
        page.locator(".entry").nth(1).scroll_into_view_if_needed()
        shot(page, f"book-edition-{name}")
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
    assert not pages.errors
