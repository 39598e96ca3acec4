"""The phone page over HTTPS films and photographs in the page (getUserMedia + MediaRecorder): Chromium with its
fake camera and microphone records a ~2 s clip and takes a photo, both reach moderation, and the clip plays
there after transcoding. Over plain HTTP (tests/browser/test_phone_media.py) the file input stays the way in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
import socketio
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.chromium import ARGS, CHROMIUM
from tests.conftest import demo_show
from tests.stage_process import PASSWORDS, StageProcess
from tests.tls import make_certs
from tests.waiting import wait_until

FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def tls_stage(tmp_path) -> Iterator[StageProcess]:
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", tls=make_certs(tmp_path / "certs")).start()
    yield server
    server.stop()


@pytest.fixture
def camera_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + FAKE_MEDIA)
    yield browser
    browser.close()


def _client(server: StageProcess, namespace: str, role: str) -> socketio.Client:
    session = requests.Session()
    session.verify = server.verify  # the test CA: WSS verified like a real venue's certificate
    client = socketio.Client(reconnection=False, http_session=session)
    client.connect(server.url, namespaces=[namespace], headers={"Cookie": server.cookie_header(role)},
                   transports=["websocket"], wait_timeout=10)
    return client


def _go(host: socketio.Client) -> None:
    def pressed() -> bool:  # pressed again while the show's GO debounce ignores it
        ack = host.call("go", namespace="/host", timeout=10)
        assert ack["ok"], ack
        return not ack["fired"].get("debounced")
    wait_until(pressed, 10, what="a GO that fired", every=0.05)


def _page(browser: Browser, errors: list[str], label: str, **context) -> Page:
    page = browser.new_context(ignore_https_errors=True, **context).new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(f"{label}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{label}: {e}"))
    return page


def test_a_phone_over_https_records_a_clip_and_takes_a_photo_in_the_page(tls_stage, camera_browser, playwright, shot):
    errors: list[str] = []
    host = _client(tls_stage, "/host", "host")
    try:
        for _ in range(3):  # join, prompt open, wall
            _go(host)
        profile = dict(playwright.devices["Pixel 7"])
        profile.pop("default_browser_type", None)
        profile["viewport"] = {"width": 390, "height": 844}
        phone = _page(camera_browser, errors, "phone", **profile)
        phone.goto(f"{tls_stage.url}/")
        assert phone.evaluate("window.isSecureContext")
        phone.fill("#name", "Ada")
        phone.click("#join-form button")
        expect(phone.locator("#me")).to_have_text("Ada")

        phone.click('#modes button[data-mode="clip"]')
        expect(phone.locator("#clip-open")).to_be_visible()
        phone.click("#clip-open")
        phone.wait_for_function("() => document.getElementById('clip-video').videoWidth > 0")
        phone.click("#clip-record")
        expect(phone.locator("#clip-stop")).to_be_visible()
        expect(phone.locator("#clip-time")).to_have_text("0:01", timeout=10_000)
        shot(phone, "phone-https-recording")
        expect(phone.locator("#clip-time")).to_have_text("0:02", timeout=10_000)
        phone.click("#clip-stop")
        expect(phone.locator("#clip-preview")).to_be_visible()
        expect(phone.locator("#clip-live")).to_be_hidden()  # the camera is off once the clip is made
        shot(phone, "phone-https-clip-recorded")
        phone.click("#clip-form button[type=submit]")

        phone.click('#modes button[data-mode="photo"]')
        phone.click("#photo-open")
        phone.wait_for_function("() => document.getElementById('photo-video').videoWidth > 0")
        shot(phone, "phone-https-photo-preview")
        phone.click("#photo-snap")
        expect(phone.locator("#photo-preview")).to_be_visible()
        phone.click("#photo-form button[type=submit]")

        moderator = _page(camera_browser, errors, "moderator", viewport={"width": 1100, "height": 800})
        moderator.goto(f"{tls_stage.url}/moderate")
        moderator.fill("#passphrase", PASSWORDS["moderator"])
        moderator.click("button[type=submit]")
        expect(moderator).to_have_url(re.compile(r"/moderate$"))
        video = moderator.locator("#queue li.record video")
        expect(video).to_have_count(1, timeout=60_000)  # transcoded to MP4 first
        expect(moderator.locator("#queue li.record img")).to_have_count(1, timeout=30_000)
        duration = video.evaluate("""(v) => new Promise((done) => {
            v.muted = true;
            const check = () => (v.currentTime > 0.5 ? done(v.duration) : requestAnimationFrame(check));
            v.play().then(check, () => done(-1));
        })""")
        assert 1.5 <= duration <= 4, f"a ~2 s clip, got {duration} s"
        assert video.evaluate("(v) => v.videoWidth") > 0
        shot(moderator, "moderator-https-clip")
        phone.click("#tab-mine")
        expect(phone.locator('.mine-item[data-state="sent"]')).to_have_count(2)
    finally:
        host.disconnect()
    assert errors == []
