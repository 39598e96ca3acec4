"""A themed 16:10 projector with a safe area, a logo and the venue Wi-Fi; media that ends by itself."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from pydantic import ValidationError

from stage.show.models import Theme
from tests.browser.projector import cue, serious_violations, upload
from tests.conftest import PeerFactory
from tests.stage_process import StageProcess

SHOW = """
title: Themed night
go_debounce_ms: 0
wifi: {ssid: "Venue;Guest", password: "cape-2026"}
displays:
  - name: side
    resolution: 1280x800
    theme: {background: "#1a0b2e", text: "#fff4e0", accent: "#3ee6c4", panel: "#2d1950", font: "DejaVu Serif", logo: logo.png}
    safe_area: {top: 5, bottom: 5, left: 10}
prompts:
  - {id: cape, text: A cape, kinds: [story, clip], auto_approve: true}
cues:
  - {id: open, type: prompt, prompt: cape}
  - {id: join, type: display, display: side, scene: join}
  - {id: film, type: display, display: side, scene: media, end: wall}
  - {id: loop, type: display, display: side, scene: media, end: loop}
"""


@pytest.fixture
def themed(tmp_path):
    Image.new("RGB", (240, 80), (62, 230, 196)).save(tmp_path / "logo.png")
    show = tmp_path / "themed.yaml"
    show.write_text(SHOW)
    server = StageProcess(show, tmp_path / "data").start()
    peers = PeerFactory(server)
    host = peers.host()
    cue(host, "open")
    yield server, peers, host
    server.stop()
    peers.close_all()


def test_theme_safe_area_logo_and_wifi_qr_on_a_16_10_projector(themed, pages, shot):
    server, _, host = themed
    cue(host, "join")
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("side"))
    expect(display.locator("#wifi")).to_be_visible()
    # the page's own heartbeat tells the host what it shows
    host.wait_for("displays", lambda d: d["displays"][0]["showing"] == "join" and d["displays"][0]["responding"])
    expect(display.locator("#wifi-name strong")).to_have_text("Venue;Guest")
    expect(display.locator("#wifi-password strong")).to_have_text("cape-2026")

    # 1280x800 in a 1920x1080 window: 1728x1080, less 10 % on the left and 5 % top and bottom.
    box = display.locator("#stage-display").bounding_box()
    assert abs(box["width"] - 1728 * 0.9) < 2 and abs(box["height"] - 1080 * 0.9) < 2, box
    assert box["x"] >= (1920 - 1728) / 2 + 1728 * 0.1 - 2, "the left safe margin is kept clear"
    style = display.evaluate("(() => { const s = getComputedStyle(document.querySelector('#scene-join'));"
                             " return [s.backgroundColor, s.color, s.fontFamily]; })()")
    assert style[0] == "rgb(26, 11, 46)" and style[1] == "rgb(255, 244, 224)" and "DejaVu Serif" in style[2]
    expect(display.locator("#logo")).to_be_visible()
    assert display.evaluate("document.getElementById('logo').naturalWidth") == 240

    display.wait_for_function("() => ['join-qr', 'wifi-qr'].every((id) => document.getElementById(id).naturalWidth)")
    shot(display, "display-join-themed-1920x1080")
    png = display.locator("#wifi-qr").screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT,
                                                                         value=(255, 255, 255)))
    assert text == "WIFI:T:WPA;S:Venue\\;Guest;P:cape-2026;;"
    assert pages.errors == []


def test_media_scene_goes_to_its_end_scene_when_the_clip_ends(themed, pages, shot, tmp_path):
    server, peers, host = themed
    ada = peers.phone("Ada")
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=1.5",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(clip)], check=True, timeout=60)
    film = upload(server, ada, "clip", clip.read_bytes(), "clip.mp4")
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("side"))
    # The kiosk command starts Chromium with --autoplay-policy=no-user-gesture-required; this shared test
    # browser does not, so a click (an operator's, on the projector page) lets the clip autoplay with sound.
    # Without it the looping clip never started, and a fixed wait here could not tell.
    display.click("body")
    assert host.call("send_to_display", {"display": "side", "record": film})["ok"]  # chooses it for media cues

    cue(host, "loop")
    expect(display.locator("#media-box video")).to_have_count(1)
    assert display.evaluate("document.querySelector('#media-box video').loop") is True
    # Past the clip's end: a looping clip starts again (its time goes back) and stays on screen.
    display.evaluate("""() => {
        const v = document.querySelector('#media-box video');
        let last = v.currentTime;
        v.addEventListener('timeupdate', () => {
          if (v.currentTime < last) v.dataset.looped = 'yes';
          last = v.currentTime;
        });
    }""")
    expect(display.locator("#media-box video")).to_have_attribute("data-looped", "yes", timeout=10_000)
    expect(display.locator("#scene-media")).to_be_visible()

    host.drain("displays")
    cue(host, "film")
    host.wait_for("displays", lambda d: d["displays"][0]["scene"] == "wall", timeout=15)
    expect(display.locator("#scene-wall")).to_be_visible()
    expect(display.locator("#wall li")).to_have_count(1)
    expect(display.locator("#wall li video")).to_have_attribute("aria-label", "a clip by Ada")
    card = display.evaluate("getComputedStyle(document.querySelector('#wall li')).backgroundColor")
    assert card == "rgb(45, 25, 80)", "cards are the theme's panel colour"
    shot(display, "display-wall-themed-1920x1080")
    assert serious_violations(display) == []
    assert pages.errors == []


@pytest.mark.parametrize("theme, pair", [
    ({"text": "#777777", "panel": "#666666"}, "text colour #777777 on the panel #666666"),
    ({"background": "#ffffff"}, "on the background #ffffff"),  # the default light text on white
    ({"accent": "#3050ff", "panel": "#1c1c24"}, "accent colour #3050ff on the"),
])
def test_a_theme_the_back_row_could_not_read_does_not_validate(theme, pair):
    with pytest.raises(ValidationError) as refused:
        Theme(**theme)
    assert pair in str(refused.value) and "4.5:1" in str(refused.value)
    assert Theme(background="#f4f1ea", panel="#ffffff", text="#1a1a1a", accent="#8a2b00", muted="#555555")
