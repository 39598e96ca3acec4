"""Every scene on a 1920x1080 projector: screenshots, fit, safety, recovery, and the kiosk command."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PeerFactory
from tests.peers import Peer
from tests.stage_process import CREW_PASSWORD, REPO, StageProcess
from tests.waiting import wait_until

SHOW = Path(__file__).resolve().parents[1] / "shows" / "scenes.yaml"
LONG = ("Once upon a cape " * 200)[:2000].strip()
RTL = "הגלימה עפה הביתה לבד 🦸‍♀️ الرداء طار"


@pytest.fixture
def scenes(tmp_path):
    server = StageProcess(SHOW, tmp_path / "data").start()
    peers = PeerFactory(server)
    host = peers.host()
    host.call("jump", {"cue": "open"})
    host.call("go")
    yield server, peers, host
    server.stop()
    peers.close_all()


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


def fits(page: Page, selector: str) -> bool:
    return page.evaluate("(selector) => { const b = document.querySelector(selector); "
                         "return b.scrollHeight <= b.clientHeight + 1 && b.scrollWidth <= b.clientWidth + 1; }",
                         selector)


def test_every_scene_renders_fits_and_comes_back_after_a_reload(scenes, pages, shot, tmp_path):
    server, peers, host = scenes
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    ada, bo = peers.phone("Ada"), peers.phone("Bo")

    long_id = story(ada, LONG)
    rtl_id = story(bo, RTL)
    bo.call("recommend", {"id": rtl_id})
    png = io.BytesIO()
    Image.new("RGB", (900, 600), (240, 180, 40)).save(png, "PNG")
    picture = upload(server, bo, "drawing", png.getvalue(), "drawing.png", [rtl_id])
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(clip)], check=True, timeout=60)
    film = upload(server, ada, "clip", clip.read_bytes(), "clip.mp4")

    cue(host, "join")
    expect(display.locator("#scene-join")).to_be_visible()
    shot(display, "scene-join")
    cue(host, "wall")
    expect(display.locator("#wall li")).to_have_count(4)
    expect(display.locator("#scene-join")).to_be_hidden()  # after the 0.3 s crossfade
    shot(display, "scene-wall")
    cue(host, "board")
    expect(display.locator("#leaderboard li").first.locator(".text")).to_have_text(RTL)
    shot(display, "scene-leaderboard")
    cue(host, "message")
    expect(display.locator("#message")).to_have_text("Back in five minutes")
    shot(display, "scene-message")

    host.call("send_to_display", {"display": "main", "record": long_id})
    expect(display.locator("#story-text")).to_have_text(LONG)
    wait_until(lambda: fits(display, "#scene-story .story-box"), what="a 2,000-character story to fit the screen")
    shot(display, "scene-story-long")
    host.call("send_to_display", {"display": "main", "record": rtl_id})
    expect(display.locator("#story-text")).to_have_text(RTL)
    assert display.evaluate("getComputedStyle(document.getElementById('story-text')).direction") == "rtl"
    shot(display, "scene-story-rtl")

    host.call("send_to_display", {"display": "main", "record": picture})
    expect(display.locator("#image-caption")).to_have_text(RTL)
    expect(display.locator("#image-credit")).to_have_text("Drawn by Bo, illustrating Bo")
    shot(display, "scene-image")
    host.call("send_to_display", {"display": "main", "record": film})
    video = display.locator("#media-box video")
    expect(video).to_have_count(1)
    # A function, never a bare expression: Playwright evals an expression again on every poll, which the
    # page's CSP refuses once the first (devtools) evaluation has passed; a function is evaled once.
    display.wait_for_function("() => document.querySelector('#media-box video').currentTime > 0")  # it plays
    shot(display, "scene-media")

    display.reload()  # the projector PC's browser reloads mid-show: the same scene comes back
    expect(display.locator("#media-box video")).to_have_count(1)
    expect(display.locator("#scene-media")).to_be_visible()
    cue(host, "blank")
    expect(display.locator("#scene-blank")).to_be_visible()
    assert pages.errors == []


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 360), colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_live_camera_preview_and_the_credits_roll(scenes, pages, shot):
    server, peers, host = scenes
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    # a capture agent as the server sees one: a real Socket.IO peer on /capture with the crew token
    agent = Peer(server.url, "/capture", auth={"token": CREW_PASSWORD, "rig": "stage"})
    peers.opened.append(agent)
    agent.call("preview", {"jpeg": jpeg((255, 0, 0))})  # not in the live scene: the display gets nothing

    cue(host, "live")
    expect(display.locator("#live-wait")).to_be_visible()
    assert display.evaluate("document.getElementById('live').naturalWidth") == 0
    for colour in ((30, 200, 90), (30, 90, 200)):
        assert agent.call("preview", {"jpeg": jpeg(colour)})["ok"]
    last_frame = time.monotonic()
    expect(display.locator("#live-wait")).to_be_hidden()
    display.wait_for_function("() => document.getElementById('live').naturalWidth === 640")
    shot(display, "scene-live")
    pixel = Image.open(io.BytesIO(display.screenshot())).convert("RGB").getpixel((960, 540))
    assert abs(pixel[0] - 30) < 30 and abs(pixel[1] - 90) < 30 and pixel[2] > 160, pixel  # the newest frame
    expect(display.locator("#live-wait")).to_be_visible(timeout=10_000)  # no frame for 3 s: the room is told
    assert time.monotonic() - last_frame > 2.5, "told only once frames stopped coming, not at once"

    ada, bo = peers.phone("Ada"), peers.phone("Bo")
    written = story(ada, "The cape flew home alone.")
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (240, 180, 40)).save(png, "PNG")
    upload(server, bo, "drawing", png.getvalue(), "d.png", [written])
    story(bo, "A second cape, a second story.")
    cue(host, "credits")
    expect(display.locator("#credits li")).to_have_count(2)
    rows = display.locator("#credits li").all_inner_texts()
    assert any("Ada" in r and "writer" in r for r in rows) and any("Bo" in r and "illustrator" in r for r in rows), rows
    # the roll moves
    top = display.locator("#credits-roll").bounding_box()["y"]
    wait_until(lambda: display.locator("#credits-roll").bounding_box()["y"] < top - 20, what="the roll to move up")
    # mid-roll: the names are in the middle of the screen when the picture is taken
    wait_until(lambda: display.locator("#credits").bounding_box()["y"] < 540, timeout=30, what="the names mid-screen")
    display.screenshot(path=str(ARTIFACTS / "scene-credits.png"))
    assert pages.errors == []


def test_a_withdrawn_record_leaves_a_showing_display_and_a_missing_file_is_reported(scenes, pages):
    server, peers, host = scenes
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    ada = peers.phone("Ada")
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 10, 200)).save(png, "PNG")
    picture = upload(server, ada, "drawing", png.getvalue(), "d.png")
    host.call("send_to_display", {"display": "main", "record": picture})
    expect(display.locator("#image")).to_be_visible()
    ada.call("withdraw", {"id": picture})
    expect(display.locator("#image")).to_be_hidden()  # the record left the screen at once

    other = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(other, "PNG")
    gone = upload(server, ada, "drawing", other.getvalue(), "e.png")
    for path in (server.data_dir / "media").glob("*.png"):
        path.unlink()
    host.call("send_to_display", {"display": "main", "record": gone})
    problem = host.wait_for("display_problem")
    assert problem["display"] == "main" and "could not be shown" in problem["message"]
    expect(display.locator("#image")).to_be_hidden()


def test_a_hundred_records_in_a_second_keep_the_wall_bounded(scenes, pages):
    server, peers, host = scenes
    cue(host, "wall")
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    watcher = peers.display()  # in the display's room: hears every wall_add, in the order the page does
    phones = [peers.phone(f"P{i}") for i in range(20)]
    for i in range(100):
        phones[i % 20].client.emit("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": f"Story {i}"},
                                   namespace="/audience")
    added = [watcher.wait_for("wall_add", timeout=30)["record"]["id"] for _ in range(100)]
    # The page has handled all hundred once the last one heads its wall (one socket delivers in order).
    expect(display.locator("#wall li").first).to_have_attribute("data-id", added[-1])
    assert display.locator("#wall li").count() == 12, "old cards leave the DOM"
    wait_until(lambda: fits(display, "#wall"), what="the wall to fit once its cards have arrived (0.8 s animation)")


def test_the_kiosk_command_opens_the_served_display(scenes):
    server, _, _ = scenes
    out = subprocess.run([sys.executable, "-m", "stage", "display", "main", str(SHOW), "--data", str(server.data_dir),
                          "--public-url", server.url], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--kiosk" in out.stdout and "--autoplay-policy=no-user-gesture-required" in out.stdout
    url = out.stdout.strip().split("'")[1]
    assert url == server.display_url("main")
