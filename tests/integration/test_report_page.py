"""The post-show report of a real night (issue 18): what a producer forwards to the venue.

A real ``stage serve`` on the demo show: phones join through the real protocol (one with emoji in her name,
one with an Arabic name, one that tries a ``<script>``), write and draw, a moderator approves and rejects,
the audience recommends, two volunteers perform (takes stored as the capture server stores them), the crew
renders a story card; then ``stage export`` writes the archive and the report is read back from it, looked
at in Chromium at 1280 wide and as printed.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

from collections.abc import Iterator

import numpy
import pypdfium2
import pytest
from PIL import Image

from stage.archive.report import build
from stage.records import archive as archive_db, credits, lineage as lineage_module
from stage.records.archive import Snapshot
from tests.chromium import ARTIFACTS
from tests.conftest import PeerFactory, demo_show
from tests.peers import go
from tests.remix.conftest import RemixNight
from tests.remix.test_archive import export
from tests.stage_process import StageProcess

SHOW_TITLE = "Tiny Stories — a live night"
EMOJI_NAME = "Zoë 🔥🌈"
ARABIC_NAME = "ليلى"
SCRIPT_NAME = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Iterator[RemixNight]:
    """One night for every test here (it takes a while to make): the server is stopped when it is made, and
    its data directory stays for the report and the export."""
    tmp = tmp_path_factory.mktemp("report-night")
    stage = StageProcess(demo_show(tmp), tmp / "data").start()
    peers = PeerFactory(stage)
    try:
        yield _a_night(stage, peers, tmp)
    finally:
        stage.stop()
        peers.close_all()


def _a_night(stage: StageProcess, peers: PeerFactory, tmp: Path) -> RemixNight:
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # doors (join scene), the cape prompt opens, the wall
    night = RemixNight(stage, peers, moderator)
    for name in ("Ada", EMOJI_NAME, ARABIC_NAME, SCRIPT_NAME, "Cy", "Dee"):
        night.phones[name] = peers.phone(name)
    night.story = night.write_story(EMOJI_NAME, "Tell no one about this cape. It only flies on Tuesdays.")
    night.approve(night.story)
    night.approve(night.write_story(ARABIC_NAME, "A cape stitched from the theatre's old curtain."))
    bold = night.write_story("Ada", "Capes & <b>bold</b>")
    night.approve(bold)
    night.reject(night.write_story(SCRIPT_NAME, "A story the moderator turns down."))
    night.drawing = night.draw(SCRIPT_NAME, night.story)
    night.approve(night.drawing)
    for name in ("Ada", ARABIC_NAME, "Cy"):
        assert night.phones[name].call("recommend", {"id": night.story})["ok"]
    assert night.phones["Dee"].call("recommend", {"id": night.drawing})["ok"]
    assert night.phones["Dee"].call("recommend", {"id": bold})["ok"]
    consent = night.phones["Cy"].joined["consent"]["version"]
    for name in ("Cy", "Dee"):
        assert night.phones[name].call("volunteer", {"consent_version": consent, "story": night.story})["ok"]
    night.takes = [night.take("Cy", tmp, 1, circled=True, operator="Sam"), night.take("Dee", tmp, 2)]
    crew = peers.crew()
    job = crew.call("remix_render", {"recipe": {"recipe": "card", "story": night.story, "picture": night.drawing,
                                                "seconds": 2}})
    assert job["ok"], job
    crew.wait_for("remix_done", lambda d: d["job"] == job["job"], timeout=120)
    night.approve(crew.call("remix_submit", {"job": job["job"]})["record"]["id"])
    return night


@pytest.fixture(scope="module")
def report(night) -> str:
    """The report as ``stage export`` makes it: from a scrubbed snapshot of the night, with its show file."""
    snapshot = Snapshot(night.data)
    try:
        archive_db.scrub_for_export(snapshot)
        lineage = lineage_module.load(snapshot)
        return build(snapshot, lineage, "tiny-stories", credits.roll(snapshot), show=night.stage.show)
    finally:
        snapshot.close()


def charts(page: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(base64.b64decode(data)) for data in
            re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]


def tick_labels(svg: ElementTree.Element, axis: str) -> list[str]:
    """The tick labels matplotlib wrote as text (svg.fonttype none) under its xtick_N / ytick_N groups."""
    ns = "{http://www.w3.org/2000/svg}"
    return [text.text.strip() for group in svg.iter(f"{ns}g") if re.fullmatch(f"{axis}tick_\\d+", group.get("id", ""))
            for text in group.iter(f"{ns}text") if text.text and text.text.strip()]


def test_the_report_tells_the_night_under_the_show_title_with_whole_numbers_on_a_clock(report):
    page = report
    assert f"<h1>{SHOW_TITLE}</h1>" in page and f"<title>{SHOW_TITLE} — post-show report</title>" in page
    figures = {label: int(value.replace(",", "")) for label, value in
               re.findall(r"<dt>([^<]+)</dt><dd>([\d,]+)</dd>", page)}
    assert figures["phones joined"] == 6 and figures["contributions"] == 5  # the rejected story was sent too
    assert figures["approved"] == 4 and figures["recommendations"] == 5
    assert figures["takes"] == 2 and figures["remix"] == 1
    assert "Cue 2 · Open the cape prompt" in page, "the timeline names the cues fired, as the show file does"
    svgs = charts(page)
    assert len(svgs) == 2, "the night and the moderators' waits"
    for svg in svgs:
        counts = tick_labels(svg, "y")
        assert counts and all(re.fullmatch(r"\d+", label) for label in counts), counts
        assert "0" in counts
    clock = tick_labels(svgs[0], "x")
    assert clock and all(re.fullmatch(r"\d\d:\d\d", label) for label in clock), clock
    waits = tick_labels(svgs[1], "x")
    assert waits and all(re.fullmatch(r"\d+", label) for label in waits), "whole seconds, none below zero"


def test_names_and_words_are_text_never_markup(report):
    page = report
    assert "<script" not in page.lower(), "no script at all: not the phone's, not the page's own"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, "the drawing's author, credited by her name as typed"
    assert "<b>bold</b>" not in page and "Capes &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert f"<bdi>{EMOJI_NAME}</bdi>" in page and f"<bdi>{ARABIC_NAME}</bdi>" in page
    assert "moderator turns down" not in page, "a rejected story is not in a report that leaves the venue"


def _colourful(image: Image.Image) -> int:
    """Pixels with strong colour: the page's text is near-black, so these can only be a colour emoji."""
    pixels = numpy.asarray(image.convert("RGB"), dtype=int)
    return int(((pixels.max(axis=2) - pixels.min(axis=2)) > 90).sum())


@pytest.mark.browser
def test_the_report_in_chromium_draws_emoji_in_colour_and_prints_on_a4(report, pages, tmp_path):
    page_html = report
    file = tmp_path / "report.html"
    file.write_text(page_html, encoding="utf-8")
    # The page's CSP refuses every script, axe's too: the test's own context lets axe in (the page has none).
    context = pages.browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    pages.contexts.append(context)
    page = pages._watch(context.new_page(), "report")
    page.goto(file.as_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-1280.png"), full_page=True)
    names = page.locator(f"bdi:text-is('{EMOJI_NAME}')")
    assert names.count() >= 2, "credited on the roll and on her story's card"
    for index in range(names.count()):
        crop = Image.open(io.BytesIO(names.nth(index).screenshot()))
        assert _colourful(crop) > 40, f"the emoji in {EMOJI_NAME!r} is drawn in colour, not as a box"
    plain = Image.open(io.BytesIO(page.locator("bdi:text-is('Ada')").first.screenshot()))
    assert _colourful(plain) == 0, "the check can fail: a name without emoji has no colour"
    for img in page.locator("img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("alt")
    assert pages.errors == [], pages.errors
    page.add_script_tag(path=str(Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"))
    found = page.evaluate("axe.run().then(r => r.violations.filter(v => ['serious', 'critical'].includes(v.impact))"
                          ".map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))")
    assert found == [], found
    pdf = pypdfium2.PdfDocument(page.pdf(prefer_css_page_size=True, print_background=True))
    width, height = pdf[0].get_size()
    assert round(width / 72 * 25.4) == 210 and round(height / 72 * 25.4) == 297, "A4, as its @page asks"
    for stale in ARTIFACTS.glob("report-print-*.png"):  # a longer report's pages from an earlier run
        stale.unlink()
    for number in range(len(pdf)):
        pdf[number].render(scale=1.4).to_pil().save(ARTIFACTS / f"report-print-{number + 1}.png")
    assert 1 <= len(pdf) <= 4, f"{len(pdf)} pages: a report a producer prints and reads"


def test_stage_export_puts_this_report_in_the_archive(night, tmp_path):
    out = tmp_path / "night.zip"
    done = export(night.data, out, "--show", str(night.stage.show))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        page = archive.read("report.html").decode()
    assert f"<h1>{SHOW_TITLE}</h1>" in page, "titled by the show, not by its file's name"
    assert "Cue 2 · Open the cape prompt" in page and f"<bdi>{EMOJI_NAME}</bdi>" in page
