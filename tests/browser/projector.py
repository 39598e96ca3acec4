"""Projector pages in tests: the same display at 1080p and 720p side by side, what a scene measures (type
size, boxes in the frame, words in their cards), axe, and the records a night puts on a display."""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path

import requests
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.chromium import ARTIFACTS
from tests.stage_process import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SIZES = ((1920, 1080), (1280, 720))

# What a scene's page measures: the smallest visible type, boxes outside the viewport, cards whose words
# overflow their box, and how much of the frame the cards cover.
MEASURE = """() => {
  const scene = [...document.querySelectorAll('.scene')].find((s) => !s.hidden && !s.classList.contains('fading'));
  const out = {scene: scene.id, smallest: 1e9, smallestText: '', outside: [], overflowing: [], cover: 0};
  const walker = document.createTreeWalker(scene, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const holder = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !holder.checkVisibility()) continue;
    const size = parseFloat(getComputedStyle(holder).fontSize);
    if (size < out.smallest) { out.smallest = size; out.smallestText = walker.currentNode.textContent.slice(0, 40); }
  }
  for (const node of scene.querySelectorAll('*')) {
    if (!node.checkVisibility()) continue;
    const r = node.getBoundingClientRect();
    if (r.width && (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1))
      out.outside.push(`${node.tagName}.${node.className}`);
  }
  for (const card of scene.querySelectorAll('.card')) {
    const r = card.getBoundingClientRect();
    out.cover += r.width * r.height / (innerWidth * innerHeight);
    if (card.scrollHeight > card.clientHeight + 1 || card.scrollWidth > card.clientWidth + 1)
      out.overflowing.push(card.dataset.id);
  }
  return out;
}"""


def serious_violations(page: Page) -> list[str]:
    page.evaluate(AXE.read_text())  # evaluate is not subject to the page's CSP, unlike a script tag
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


class Projectors:
    """The same display in a 1920x1080 and a 1280x720 window: every check and screenshot on both."""

    def __init__(self, pages, url: str) -> None:
        self.pages = [pages.desktop("display", w, h) for w, h in SIZES]
        for page in self.pages:
            page.goto(url)

    def each(self, check) -> None:
        for page in self.pages:
            check(page)

    def expect(self, selector: str):
        """Playwright assertions on the first page; call .all() to run one on both."""
        return [expect(page.locator(selector)) for page in self.pages]

    def shoot(self, shot, scene: str, moving: bool = False) -> None:
        """``moving``: as it is now, mid-animation (a roll), not with animations reset to their start."""
        for page, (w, h) in zip(self.pages, SIZES):
            if moving:
                page.screenshot(path=str(ARTIFACTS / f"display-{scene}-{w}x{h}.png"))
            else:
                shot(page, f"display-{scene}-{w}x{h}")

    def check(self, scene: str, inside: bool = True) -> list[dict]:
        """axe clean, no text under 4 % of the screen height, and (``inside``) every box in the frame."""
        found = []
        for page, (_, h) in zip(self.pages, SIZES):
            assert serious_violations(page) == [], f"{scene} at {h}p"
            frame = page.evaluate(MEASURE)
            assert frame["smallest"] >= 0.04 * h - 0.5, f"{scene} at {h}p: {frame['smallestText']!r} is too small"
            if inside:
                assert frame["outside"] == [], f"{scene} at {h}p: outside the frame: {frame['outside']}"
            assert frame["overflowing"] == [], f"{scene} at {h}p: words overflow their cards"
            found.append(frame)
        return found


def cue(host, cue_id: str) -> None:
    assert host.call("jump", {"cue": cue_id})["ok"]
    assert host.call("go")["fired"]["state"] == "done"


def story(phone, text: str) -> str:
    ack = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": text})
    assert ack["record"]["status"] == "approved", ack  # the test show auto-approves clean stories
    return ack["record"]["id"]


def upload(server, phone, kind: str, data: bytes, name: str, sources: list[str] = ()) -> str:
    response = requests.post(f"{server.url}/api/uploads", data={"id": str(uuid.uuid4()), "kind": kind, "prompt": "cape",
                             "device_key": phone.device_key, "sources": list(sources)}, files={"file": (name, data)})
    assert response.status_code == 200, response.text
    return response.json()["record"]["id"]


def drawing(colour=(240, 180, 40), size=(900, 600)) -> bytes:
    """A drawing as a phone's canvas makes one: strokes on a transparent sheet."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    w, h = size
    pen.ellipse((w * .3, h * .15, w * .7, h * .85), outline=colour + (255,), width=18)
    pen.line((w * .2, h * .9, w * .8, h * .1), fill=(40, 40, 40, 255), width=14)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def clip_file(path: Path, seconds: float = 2) -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=640x360:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", str(path)], check=True, timeout=60)
    return path


def fits(page: Page, selector: str) -> bool:
    return page.evaluate("(selector) => { const b = document.querySelector(selector); "
                         "return b.scrollHeight <= b.clientHeight + 1 && b.scrollWidth <= b.clientWidth + 1; }",
                         selector)
