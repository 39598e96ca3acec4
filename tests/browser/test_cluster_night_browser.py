"""A night on ``stage serve --workers 2`` in real Chromium, through HAProxy (issue 17's "Done when").

Phones spread over both serve processes, the host moderates and presses GO on the conductor, the projector
shows the wall, the lighting console hears its cue over OSC, the crew records a take with the conductor's own
local capture agent; then a console and a projector that follow a kill -9 of the conductor by themselves, and
the consoles' banner while the message queue (Redis) is down, gone again once the pages are back by themselves.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.test_consoles_browser import cue, log_in, press_go
from tests.conftest import demo_show
from tests.lighting.osc_peers import OscDump, free_udp_port
from tests.cluster.workers import conductor_of, rig_online, sessions_on, stagesrv, start_workers, worker_pid
from tests.stage_process import StageProcess
from tests.waiting import wait_until

FAILOVER_S = 15  # a generous deadline for a page to be back by itself (the lease moves in about a second)
STORIES = {"conductor": "The cape flew over the bar and came back with crisps.",
           "follower": "My cape is a curtain from the old theatre; it still smells of applause."}


@pytest.fixture
def two_workers(tmp_path: Path, postgres, redis_server) -> Iterator[Callable[..., StageProcess]]:
    """Starts ``stage serve --workers 2`` on a fresh PostgreSQL database and this test's Redis; stops it."""
    started: list[tuple[StageProcess, str]] = []

    def start(show: Path | None = None, local_rigs: bool = False) -> StageProcess:
        url = postgres.fresh_database()
        server = start_workers(tmp_path / f"data{len(started)}", url, redis_server.url, show, local_rigs)
        started.append((server, url))
        return server

    yield start
    for server, url in started:
        server.stop()
        assert not server.leftovers, f"processes {server.leftovers} outlived the supervisor"
        postgres.drop(url)


@pytest.fixture
def lights() -> Iterator[OscDump]:
    """The lighting console: liblo's oscdump on a loopback port."""
    dump = OscDump(free_udp_port())
    yield dump
    dump.stop()


def test_a_whole_night_through_two_workers(two_workers, lights, pages, shot, tmp_path):
    server = two_workers(demo_show(tmp_path, lights.port), local_rigs=True)
    conductor = conductor_of(server)
    assert conductor in (1, 2)
    follower = 3 - conductor
    crew_cookies = server.login("crew").cookies
    # The conductor starts the show's local agent (the test-pattern camera); it connects to its own process.
    wait_until(lambda: rig_online(server, conductor), 90, "the conductor's local rig to come online", every=0.2)

    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    expect(display.locator("#scene-join")).to_be_visible()
    expect(display.locator("#join-url")).to_have_text(f"{server.url}/")  # the proxy's address, not a worker's
    host = pages.desktop("host")
    log_in(host, server, "host", "/host")
    expect(host.locator("#conn")).to_have_attribute("data-state", "online")
    expect(cue(host, "1")).to_have_attribute("data-state", "standby")

    # Consoles, the display and the agent all sit on the conductor; phones go where leastconn sends them.
    before = {k: sessions_on(server, k, crew_cookies) for k in (1, 2)}
    assert before[follower] == 0, before
    phones: list[Page] = []
    on: dict[int, list[Page]] = {1: [], 2: []}
    while not (on[1] and on[2]):
        assert len(phones) < 6, f"leastconn put all of {len(phones)} phones on one worker"
        phone = pages.phone()
        phone.goto(f"{server.url}/")
        phone.fill("#name", f"Phone {len(phones) + 1}")
        phone.click("#join-form button")
        expect(phone.locator("#me")).to_have_text(f"Phone {len(phones) + 1}")
        phones.append(phone)
        on[int(stagesrv(phone)[1:])].append(phone)
        # Each phone's socket is on the worker its cookie names: each process counts exactly its own.
        wait_until(lambda: all(sessions_on(server, k, crew_cookies) == before[k] + len(on[k]) for k in (1, 2)),
                   10, f"the sessions of {len(phones)} phones on the workers their cookies name")
    expect(display.locator("#phone-count")).to_have_text(str(len(phones)))  # the house's count, both processes

    press_go(host)  # cue 1: the join scene
    expect(cue(host, "2")).to_have_attribute("data-state", "standby")
    press_go(host)  # cue 2: the cape prompt opens, on phones on both processes
    expect(host.locator("#prompt-open")).to_contain_text("A tiny story about a cape")
    writers = {"conductor": on[conductor][0], "follower": on[follower][0]}
    for name, phone in writers.items():
        expect(phone.locator("#prompt-text")).to_contain_text("A tiny story about a cape")
        phone.fill("#story", STORIES[name])
        phone.click("#send")
        expect(phone.locator(".mine-item").first).to_have_attribute("data-status", "pending")

    queue = host.locator("#queue li.record")
    expect(queue).to_have_count(2)  # the follower's story reached the conductor's console over Redis
    expect(host.locator("#pending")).to_have_text("2")
    shot(host, "cluster-host-queue")
    host.keyboard.press("a")  # approve the first in the queue, then the next
    expect(queue).to_have_count(1)
    host.keyboard.press("a")
    expect(queue).to_have_count(0)
    for phone in writers.values():  # the approvals reach the phone on the follower too
        expect(phone.locator(".mine-item").first).to_have_attribute("data-status", "approved")

    press_go(host)  # cue 3: the wall
    expect(display.locator("#scene-wall")).to_be_visible()
    cards = display.locator("#wall li.wall-card")
    expect(cards).to_have_count(2)
    shown = {card.locator(".text").text_content(): card.locator(".author").text_content() for card in cards.all()}
    assert shown == {STORIES[key]: phone.locator("#me").text_content() for key, phone in writers.items()}
    shot(display, "cluster-projector-wall")
    far = writers["follower"]  # the phone on the process that does not run the show
    far.click("#tab-mine")
    expect(far.locator(".mine-item").first).to_be_visible()
    shot(far, "cluster-phone-approved")
    expect(cue(host, "4")).to_have_attribute("data-state", "standby")
    shot(host, "cluster-host-console")

    # A take, on the crew console, with the conductor's real local agent and its test-pattern camera.
    crew = pages.desktop("crew")
    log_in(crew, server, "crew", "/crew")
    rig = crew.locator('#rig-list li[data-rig="stage"]')
    expect(rig).to_have_attribute("data-state", "online")
    expect(crew.locator("#takes-empty")).to_be_visible()
    rig.get_by_role("button", name="● Record").click()
    expect(rig).to_have_attribute("data-state", "recording")
    # Two seconds or more on the clock: the health line comes about once a second, so a loaded machine may show
    # 0:01 then 0:03, never 0:02.
    expect(rig.locator(".rig-health")).to_contain_text(re.compile(r"REC (0:0[2-9]|0:[1-5]\d|[1-9]\d*:)"),
                                                       timeout=20_000)
    rig.get_by_role("button", name="■ Stop").click()
    take = crew.locator("#takes li.take").first
    expect(take).to_contain_text("Take 1 · stage", timeout=60_000)  # encoded, uploaded through the conductor
    expect(rig).to_have_attribute("data-state", "online")
    video = take.locator("video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    crew.wait_for_function("v => v.readyState >= 3 && v.currentTime > 0.5", arg=video.element_handle(),
                           timeout=15_000)  # the take plays, served from the night's shared media
    shot(crew, "cluster-crew-takes")

    press_go(host)  # cue 4: the prompt closes
    expect(cue(host, "5")).to_have_attribute("data-state", "standby")
    assert lights.drain() == []
    press_go(host)  # cue 5: the performance look on the lighting console, the story scene, the take rolls
    assert lights.next(10) == "/eos/cue/1/12/fire"
    expect(rig).to_have_attribute("data-state", "recording")
    press_go(host)  # cue 6: cut, lights back
    assert lights.next(10) == "/eos/cue/1/13/fire"
    expect(crew.locator("#takes li.take")).to_have_count(2, timeout=60_000)
    expect(rig).to_have_attribute("data-state", "online")
    assert lights.drain() == []
    assert pages.errors == []


class Frames:
    """Every Socket.IO frame a page receives, with the WebSocket it came on (old sockets vs reconnected ones)."""

    def __init__(self, page: Page) -> None:
        self.sockets: list = []
        self.received: list[tuple[object, str]] = []
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        self.sockets.append(ws)
        ws.on("framereceived", lambda payload: self.received.append((ws, str(payload))))

    def socketio(self) -> list:
        """The page's Socket.IO WebSockets so far, in the order they opened."""
        return [ws for ws in self.sockets if "/socket.io/" in ws.url]

    def first_new(self, page: Page, namespace: str, event: str, old: list, timeout_s: float) -> dict:
        """The first ``event`` on ``namespace`` that came on a WebSocket opened after ``old`` (a reconnection),
        waited for with Playwright's own waits: for that socket to open, then for its frame."""
        prefix = f'42{namespace},["{event}",'
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.events(namespace, event, [ws for ws in self.socketio() if ws not in old])
            if found:
                return found[0]
            remaining = (deadline - time.monotonic()) * 1000
            assert remaining > 0, f"no {event} on {namespace} over a new connection within {timeout_s} s"
            fresh = [ws for ws in self.socketio() if ws not in old and not ws.is_closed()]
            try:
                if fresh:
                    fresh[-1].wait_for_event("framereceived", lambda frame: str(frame).startswith(prefix),
                                             timeout=remaining)
                else:
                    page.wait_for_event("websocket", lambda ws: "/socket.io/" in ws.url, timeout=remaining)
            except PlaywrightError:  # that socket closed (a reconnect the proxy answered 503): the next one
                continue

    def events(self, namespace: str, event: str, sockets: list | None = None) -> list:
        """The payloads of ``event`` on ``namespace`` (``42/host,["cues",{...}]``), on ``sockets`` only if given."""
        prefix = f'42{namespace},["{event}",'
        return [json.loads(text[len(f"42{namespace},"):])[1] for ws, text in self.received
                if text.startswith(prefix) and (sockets is None or ws in sockets)]


def test_the_host_console_follows_a_failover_by_itself(two_workers, pages, shot):
    server = two_workers()
    display = pages.desktop("display", 1920, 1080)
    shown = Frames(display)
    display.goto(server.display_url("main"))
    expect(display.locator("#scene-join")).to_be_visible()
    host = pages.desktop("host")
    heard = Frames(host)
    log_in(host, server, "host", "/host")
    conn = host.locator("#conn")
    expect(conn).to_have_attribute("data-state", "online")
    expect(cue(host, "1")).to_have_attribute("data-state", "standby")
    host.click("#go")  # cue 1: the join scene
    expect(cue(host, "2")).to_have_attribute("data-state", "standby")
    expect(cue(host, "1")).to_have_attribute("data-state", "done")
    expect(host.locator('#display-list li[data-name="main"]')).to_have_attribute("data-state", "online")

    before = conductor_of(server)
    killed = worker_pid(server, before)
    assert killed is not None
    old_host, old_display = heard.socketio(), shown.socketio()
    assert len(old_host) == 1 and len(old_display) == 1  # one connection each (the host's two namespaces share it)
    for page in (host, display):
        page.evaluate("window.__same_page = true")  # a reload would lose it
    os.kill(killed, signal.SIGKILL)
    gone = time.monotonic()
    expect(conn).to_have_attribute("data-state", "offline", timeout=5_000)  # "Reconnecting…": the page saw it go
    if not old_display[0].is_closed():  # the projector's connection goes too
        old_display[0].wait_for_event("close", timeout=5_000)
    # The same pages, no reload: each connects again through the proxy, which finds the new conductor.
    expect(conn).to_have_attribute("data-state", "online", timeout=FAILOVER_S * 1000)
    back = time.monotonic() - gone
    cues = heard.first_new(host, "/host", "cues", old_host, FAILOVER_S)  # the new conductor's
    assert cues["standby"] == "2"  # the same standby, from the store
    expect(cue(host, "2")).to_have_attribute("data-state", "standby")
    expect(cue(host, "1")).to_have_attribute("data-state", "done")
    assert conductor_of(server) == 3 - before

    scene = shown.first_new(display, "/display", "scene", old_display, FAILOVER_S)  # from the new conductor
    assert scene["scene"]["type"] == "join"
    expect(display.locator("#offline")).to_be_hidden()
    expect(display.locator("#scene-join")).to_be_visible()
    expect(display.locator("#join-url")).to_have_text(f"{server.url}/")
    scene_back = time.monotonic() - gone
    expect(host.locator('#display-list li[data-name="main"]')).to_have_attribute("data-state", "online")

    assert host.evaluate("window.__same_page") and display.evaluate("window.__same_page"), "a page reloaded"
    host.click("#go")  # GO from the same page, on the new conductor: cue 2 opens the prompt
    expect(cue(host, "3")).to_have_attribute("data-state", "standby")
    expect(host.locator("#prompt-open")).to_contain_text("A tiny story about a cape")
    shot(host, "cluster-host-after-failover")
    print(f"failover: host console online {back:.1f} s after kill -9, projector scene again {scene_back:.1f} s")
    wait_until(lambda: worker_pid(server, before) not in (None, killed), 10, "the supervisor to start it again")
    # Nothing went wrong on the pages but what Chromium itself logs for a reconnect the proxy answered "no
    # conductor yet" (503 while neither worker passes its check); the page just tries again.
    refused = re.compile(r"^(host|display): WebSocket connection to 'ws://127\.0\.0\.1:\d+/socket\.io/\?conductor=1&"
                         r"EIO=4&transport=websocket' failed: Error during WebSocket handshake: Unexpected response "
                         r"code: 50[23] ")
    assert [error for error in pages.errors if not refused.match(error)] == []
    print(f"failover: {len(pages.errors)} reconnects refused by the proxy while no worker conducted")


def test_the_consoles_show_when_the_message_queue_is_down(two_workers, redis_server, pages, shot):
    server = two_workers()
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    expect(display.locator("#scene-join")).to_be_visible()
    host = pages.desktop("host", 1920, 1080)
    log_in(host, server, "host", "/host")
    conn, banner = host.locator("#conn"), host.locator("#queue-down")
    expect(conn).to_have_attribute("data-state", "online")
    expect(cue(host, "1")).to_have_attribute("data-state", "standby")
    expect(banner).to_be_hidden()

    redis_server.kill()
    down = time.monotonic()
    expect(banner).to_be_visible(timeout=15_000)
    seen = time.monotonic() - down
    expect(banner).to_contain_text("Some phones are not getting updates")
    expect(conn).to_have_attribute("data-state", "online")  # the console itself still works: GO does
    press_go(host)  # cue 1: the join scene
    expect(cue(host, "2")).to_have_attribute("data-state", "standby")
    expect(host.locator("#audit td", has_text=re.compile(r"^go$"))).to_have_count(1)  # the audit log got it
    shot(host, "cluster-host-queue-down")

    redis_server.restart()
    back = time.monotonic()
    # The conductor drops its consoles' and displays' sockets when the queue is back (stage/realtime/resync.py),
    # for their full state: the same pages must come back by themselves, and the banner go.
    wait_until(lambda: re.search(r"message queue back: .*; [1-9]\d* console and display sockets reconnect",
                                 server.log_text()), 15, "the conductor to drop its consoles' sockets")
    expect(conn).to_have_attribute("data-state", "online", timeout=15_000)
    expect(banner).to_be_hidden()
    expect(display.locator("#offline")).to_be_hidden(timeout=15_000)
    again = time.monotonic() - back
    for standby in ("3", "4"):  # the prompt, the wall: GO from the same page still reaches the projector
        press_go(host)
        expect(cue(host, standby)).to_have_attribute("data-state", "standby")
    expect(display.locator("#scene-wall")).to_be_visible()
    print(f"queue: the banner showed {seen:.1f} s after Redis was killed; pages back {again:.1f} s after its restart")
    assert pages.errors == []
