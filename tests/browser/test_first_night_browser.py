"""The first night in real Chromium: a phone joins and submits, the host approves, the projector shows it."""

from __future__ import annotations

import re
import time

import cv2
import numpy as np
from playwright.sync_api import expect

NAME = '<img src=x onerror=__pwned=1>Eve'
STORY = "<script>window.__pwned=1</script>The cape \u202eflew\u202c home alone."
SHOWN = "<script>window.__pwned=1</script>The cape flew home alone."


def decode_qr(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None and text, "no QR code readable on the projector"
    return text


def poll(condition, timeout: float = 5) -> None:
    """Wait for a condition read with page.evaluate (the CSP forbids the eval that wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_phone_to_moderation_to_projector(stage, pages, shot):
    display = pages.desktop("display", 1920, 1080)
    display.goto(stage.display_url("main"))
    expect(display.locator("#scene-join")).to_be_visible()
    expect(display.locator("#join-url")).to_have_text(f"{stage.url}/")
    poll(lambda: display.evaluate("document.getElementById('join-qr').naturalWidth") > 0)
    shot(display, "display-join")
    join_url = decode_qr(display.screenshot())  # what a phone's camera reads off the projector
    assert join_url == f"{stage.url}/"

    host = pages.desktop("host")
    host.goto(f"{stage.url}/host")
    expect(host).to_have_url(re.compile(r"/login/host$"))
    host.fill("#passphrase", "host-test-pass")
    host.click("button[type=submit]")
    expect(host).to_have_url(re.compile(r"/host$"))
    expect(host.locator("#cues li[data-state=standby]")).to_have_attribute("data-id", "1")
    host.keyboard.press("Space")  # GO: join scene
    expect(host.locator("#cues li[data-state=standby]")).to_have_attribute("data-id", "2")
    # Kept as a fixed wait: past the show's 200 ms GO debounce, as a stage manager's next press is (a rule
    # about elapsed time: nothing on the page changes when the debounce ends).
    host.wait_for_timeout(250)
    host.click("#go")  # GO: open the prompt
    expect(host.locator("#prompt-open")).to_contain_text("A tiny story about a cape")

    phone = pages.phone()
    phone.goto(join_url)
    phone.fill("#name", NAME)
    phone.click("#join-form button")
    expect(phone.locator("#me")).to_have_text(NAME)
    expect(phone.locator("#prompt-text")).to_have_text(re.compile(r"^A tiny story about a cape. 30 words max."))
    expect(display.locator("#phone-count")).to_have_text("1")
    phone.fill("#story", STORY)
    expect(phone.locator("#count")).to_contain_text("words")
    phone.click("#send")
    mine = phone.locator(".mine-item").first
    expect(mine).to_have_attribute("data-status", "pending")
    expect(mine.locator(".text")).to_have_text(SHOWN)
    shot(phone, "phone-pending")

    item = host.locator("#queue li.record").first
    expect(item.locator(".text")).to_have_text(SHOWN)
    expect(item.locator(".author")).to_have_text(NAME)
    expect(host.locator("#pending")).to_have_text("1")
    shot(host, "host-queue")
    host.keyboard.press("a")  # approve the first in the queue
    expect(host.locator("#queue li.record")).to_have_count(0)
    expect(mine).to_have_attribute("data-status", "approved")

    host.keyboard.press("Space")  # GO: the wall
    card = display.locator("#wall li.wall-card").first
    expect(card.locator(".text")).to_have_text(SHOWN)
    expect(card.locator(".author")).to_have_text(NAME)
    shot(display, "display-wall")
    shot(phone, "phone-approved")

    phone.reload()  # the same phone, the same participant and history after a refresh
    expect(phone.locator("#me")).to_have_text(NAME)
    expect(phone.locator(".mine-item").first).to_have_attribute("data-status", "approved")

    for page in (phone, host, display):
        assert page.evaluate("window.__pwned") is None, "user text ran as code"
        # The CSP would stop inline script anyway: check the markup itself never became elements.
        assert page.locator(".text *, .author *, #me *").count() == 0
        assert page.locator("script:not([src]):not([type='application/json'])").count() == 0  # the catalog is data
    assert display.evaluate("getComputedStyle(document.querySelector('#wall .text')).unicodeBidi") == "isolate"
    assert pages.errors == []


def test_display_with_a_wrong_key_is_refused(stage, pages):
    page = pages.desktop("display")
    response = page.goto(f"{stage.url}/display/main?key=wrong")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("wrong key")
