"""After the show, in Chromium: the door poster printed on A4 and Letter (its QR codes scanned back from
the PDF), and the host console's "Download the night" from the button to a verified zip."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Page, expect

from stage.archive import verify
from stage.archive.manifest import read_manifest
from tests.chromium import ARTIFACTS
from tests.browser.test_consoles_browser import log_in
from tests.conftest import PeerFactory, demo_show
from tests.peers import go
from tests.stage_process import StageProcess

WIFI = '\nwifi: {ssid: "Foyer Guest", password: "cape-2026"}\n'
WIFI_URI = "WIFI:T:WPA;S:Foyer Guest;P:cape-2026;;"
POINTS = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}  # the paper in PDF points (1/72 inch)


@pytest.fixture
def venue(tmp_path):
    """The demo night with the venue's Wi-Fi named (the poster then carries its QR too)."""
    show = demo_show(tmp_path)
    show.write_text(show.read_text().replace("\ndisplays:", f"{WIFI}\ndisplays:", 1))
    server = StageProcess(show, tmp_path / "data").start()
    peers = PeerFactory(server)
    yield server, peers
    server.stop()
    peers.close_all()


def scanned(pdf: bytes) -> tuple[set[str], str, tuple[float, float], int]:
    """The QR codes on page 1 of ``pdf`` (rendered at 200 dpi, read by OpenCV), its text, size, page count."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        size = page.get_size()
        text = page.get_textpage().get_text_range()
        image = page.render(scale=200 / 72).to_numpy()
        pages = len(document)
    finally:
        document.close()
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2GRAY)  # pdfium renders BGR(A)
    # Both of OpenCV's detectors: the classic one alone misses the small Wi-Fi code beside the large join
    # code at some scales (a phone's camera, reading one code at a time, does not).
    codes: set[str] = set()
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        ok, texts, _, _ = detector.detectAndDecodeMulti(gray)
        codes |= {t for t in texts if t} if ok else set()
    return codes, text, size, pages


def test_the_door_poster_prints_on_a4_and_letter_and_its_codes_scan(venue, pages, shot):
    server, _ = venue
    host = pages.desktop("host", 1920, 1080)
    log_in(host, server, "host", "/host")
    with host.expect_popup() as opened:
        host.click("#poster-a4")
    poster = opened.value
    expect(poster.locator("#join-url")).to_have_text(f"{server.url}/")
    expect(poster.locator("#wifi-ssid")).to_have_text("Foyer Guest")
    poster.wait_for_function("() => ['join-qr', 'wifi-qr'].every((id) => document.getElementById(id).naturalWidth)")
    shot(poster, "poster-a4-screen")
    printed_url = poster.locator("#join-url").inner_text()

    for paper in ("a4", "letter"):
        poster.goto(f"{server.url}/host/poster?paper={paper}")
        poster.wait_for_function("() => ['join-qr', 'wifi-qr'].every((id) => document.getElementById(id).complete)")
        # The page's own @page size wins (format is only the fallback): the sheet asks for its paper.
        pdf = poster.pdf(format="A4" if paper == "a4" else "Letter", prefer_css_page_size=True, print_background=True)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"poster-{paper}.pdf").write_bytes(pdf)  # to look at, beside the screenshots
        codes, text, size, count = scanned(pdf)
        text = " ".join(text.split())  # the PDF's lines break where the sheet wraps
        assert count == 1, f"the {paper} poster spills onto {count} pages"
        assert abs(size[0] - POINTS[paper][0]) < 1 and abs(size[1] - POINTS[paper][1]) < 1, (paper, size)
        assert codes == {printed_url, WIFI_URI}, codes
        assert printed_url in text and "Foyer Guest" in text
        assert "Host console" not in text and "Print" not in text, "console chrome reached the paper"
    assert pages.errors == []


def approved_story(peers: PeerFactory, text: str) -> str:
    console, moderator = peers.host(), peers.moderation()
    go(console), go(console)  # the join scene, then the prompt opens
    phone = peers.phone("Ada")
    story = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": story, "prompt": "cape", "text": text})["ok"]
    moderator.wait_for("queue_add")
    assert moderator.call("moderate", {"id": story, "decision": "approve"})["ok"]
    return story


def watch_archive_states(page: Page) -> None:
    """Keep every state the control shows (a small night's export may be over before a look would see it)."""
    page.evaluate("""() => {
        window.archiveStates = [];
        new MutationObserver(() => window.archiveStates.push(
            [document.body.dataset.archive, document.getElementById('archive-status').textContent,
             document.getElementById('archive-bar').hidden])
        ).observe(document.body, {attributes: true, attributeFilter: ['data-archive'], subtree: true,
                                  childList: true, characterData: true});
    }""")


def test_the_host_downloads_the_night_with_progress_and_the_zip_verifies(venue, pages, shot, tmp_path):
    server, peers = venue
    story = approved_story(peers, "A cape that went home in the archive.")
    host = pages.desktop("host", 1440, 900)
    log_in(host, server, "host", "/host")
    expect(host.locator("#conn")).not_to_have_text("Connecting…")
    panel = host.locator("#doors-and-after")
    panel.scroll_into_view_if_needed()
    shot(host, "host-archive-idle")
    watch_archive_states(host)

    with host.expect_download(timeout=120_000) as downloading:
        host.click("#archive-start")
    download = downloading.value
    states = host.evaluate("window.archiveStates")
    assert any(state == "running" and not bar_hidden for state, _, bar_hidden in states), states
    expect(host.locator("#archive-status")).to_contain_text(f"Ready: {download.suggested_filename}")
    expect(host.locator("#archive-bar")).to_be_hidden()
    expect(host.locator("#archive-link")).to_be_visible()
    panel.scroll_into_view_if_needed()
    shot(host, "host-archive-ready")

    zipped = tmp_path / download.suggested_filename
    download.save_as(zipped)
    assert zipped.name.startswith("tiny-stories-") and zipped.suffix == ".zip"
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(zipped) as archive:
        manifest = read_manifest(archive)
        for member, digest in manifest.files.items():
            assert hashlib.sha256(archive.read(member)).hexdigest() == digest, member
        archive.extractall(unpacked)
    verify.check_database(unpacked / "data" / "stage.db")  # the archive's own verifier, as `stage import` runs it
    for media in (unpacked / "media").glob("*") if (unpacked / "media").is_dir() else ():
        verify.check_media(media, f"media/{media.name}")
    records = json.loads((unpacked / "records.json").read_text())
    assert [r["text"] for r in records if r["id"] == story] == ["A cape that went home in the archive."]
    assert pages.errors == []
