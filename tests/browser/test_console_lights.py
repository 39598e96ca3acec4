"""Stage's own lights on the host console, in Chromium against a real `stage serve` whose sACN node is a receiver on
the loopback (tests/dmx/receivers.py): the performance GO fades the stage look in over 3 s, and the light cue's row
reads running with a bar that fills while its timer counts down, then done; the node reads ok once frames flow; the
grand master at 50 halves every intensity slot the receiver gets, and follows another host console that moves it;
PANIC says the lights held; on the focused fader an arrow key is one step and one send, and Space is still GO. A
show without a dmx: section shows no lighting section at all. Screenshots console-lights-fading-1440x900.png and
console-lights-<size>.png, looked at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.agent_peer import AgentPeer
from tests.browser.test_console_accidents import SIZES, serious_violations
from tests.browser.test_console_recording import performance_ready
from tests.browser.test_consoles_browser import cue, log_in
from tests.conftest import demo_show
from tests.dmx.receivers import SacnReceiver
from tests.stage_process import StageProcess
from tests.waiting import wait_until

# Samples of the fading row, taken in the page every 50 ms (a fade outruns a test's round trips under load).
SAMPLER = """(id) => {
  window.fadeSamples = [];
  setInterval(() => {
    const row = document.querySelector(`#cues li[data-id="${id}"]`);
    const bar = row && row.querySelector("progress.cue-fade");
    if (bar && row.classList.contains("is-fading"))
      window.fadeSamples.push([bar.value, parseFloat(row.querySelector(".cue-timer").textContent)]);
  }, 50);
}"""


@pytest.fixture
def receiver() -> Iterator[SacnReceiver]:
    with SacnReceiver() as node:
        yield node


@pytest.fixture
def stage(tmp_path: Path, receiver: SacnReceiver) -> Iterator[StageProcess]:
    """The demo night with its sACN node pointed at the receiver (the `peers` fixture connects to this one)."""
    show = demo_show(tmp_path, dmx_port=receiver.port)
    server = StageProcess(show, tmp_path / "data").start()
    yield server
    server.stop()


def light_cue(show: Path, group: str = "5"):
    """The performance group's light cue (the demo's "Stage look"), found by type: its id follows the group's order."""
    from stage.show.loader import load_show

    performance = next(c for c in load_show(show).cues if c.id == group)
    return next(c for c in performance.cues if c.type == "light")


def expected_universe(show: Path, look: str, grand_master: float) -> tuple[int, ...]:
    """Universe 1 as the look should leave it: each level of the show file (groups expanded) quantized as DMX out
    does, intensity times the grand master; every other slot 0. The slots come from the patch."""
    from stage.dmx.patch import build_patch
    from stage.show.loader import load_show

    dmx = load_show(show).dmx
    patch = build_patch(dmx, show.parent)
    data = [0] * 512
    for target, levels in dmx.looks[look].items():
        for fixture in dmx.groups.get(target, (target,)):
            for parameter, level in levels.items():
                channel = patch.channels[(fixture, parameter)]
                assert channel.universe == 1 and channel.fine is None
                data[channel.slot] = int(level / 100 * (grand_master / 100) * 255 + 0.5)
    return tuple(data)


def latest_frame(receiver: SacnReceiver, universe: int = 1):
    receiver.drain()
    for datagram in reversed(receiver.datagrams):
        frame = receiver.decode(datagram.data)
        if frame.universe == universe:
            return frame
    return None


def universe_reads(receiver: SacnReceiver, data: tuple[int, ...], what: str) -> None:
    wait_until(lambda: (frame := latest_frame(receiver)) is not None and tuple(frame.dmxData) == data,
               what=what)


def test_a_light_cue_fades_on_the_console_and_the_grand_master_dims_the_node(stage, peers, pages, shot, receiver):
    agent = AgentPeer(stage.url)
    try:
        ready = performance_ready(stage, peers)  # a story on main, Ada volunteering, cue 5 in standby
        other_host = ready["host"]
        host = pages.desktop("host", *SIZES[0])
        log_in(host, stage, "host", "/host")
        expect(cue(host, "5")).to_have_attribute("data-state", "standby")
        lighting = host.locator("#dmx")
        expect(lighting).to_be_visible()
        node = host.locator('#dmx-nodes li[data-name="stage-node"]')
        expect(node).to_have_attribute("data-status", "ok", timeout=15000)  # the keep-alive frames flow
        expect(node).to_contain_text("sACN")
        expect(node).to_contain_text("127.0.0.1")
        expect(node).to_contain_text("universe 1")
        expect(host.locator("#grand-master")).to_have_value("100")
        expect(host.locator("#grand-master-value")).to_have_text("100 %")

        light = light_cue(stage.show)
        assert (light.look, light.fade) == ("stage", 3)
        host.evaluate(SAMPLER, light.id)
        host.click("#go")  # lights, the story on main, the camera rolls
        kind, command = agent.next_command()
        assert kind == "record"
        assert agent.send("take_state", {"take_id": command["take_id"], "state": "recording", "reason": None})["ok"]
        row = cue(host, light.id)
        expect(row).to_have_attribute("data-state", "running")
        expect(row).to_have_class(re.compile(r"\bis-fading\b"))
        expect(row.locator("progress.cue-fade")).to_have_attribute("aria-label", "Fade to stage, 3 s")
        # The shot mid-fade, with the bar part-filled (or, on a machine too slow to catch it, once it is done).
        host.wait_for_function("""(id) => {
            const row = document.querySelector(`#cues li[data-id="${id}"]`);
            const bar = row.querySelector("progress");
            return bar ? bar.value >= 0.4 : row.dataset.state !== "running";
        }""", arg=light.id)
        shot(host, "console-lights-fading-1440x900")
        expect(row).to_have_attribute("data-state", "done", timeout=15000)
        expect(row.locator("progress")).to_have_count(0)
        expect(row.locator(".cue-timer")).to_have_text("")
        fade_was_shown(host.evaluate("window.fadeSamples"))

        full = expected_universe(stage.show, "stage", 100)
        universe_reads(receiver, full, "the stage look at full")
        half = expected_universe(stage.show, "stage", 50)
        assert half != full and any(half)
        host.locator("#grand-master").fill("50")  # the fader's input and change events, as a release sends
        expect(host.locator("#grand-master-value")).to_have_text("50 %")
        expect(host.locator("#grand-master-row")).to_have_class(re.compile(r"\bis-down\b"))
        assert other_host.wait_for("dmx", lambda d: d["grand_master"] == 50)["grand_master"] == 50
        universe_reads(receiver, half, "the stage look at a grand master of 50 %")
        layout_shows_the_lights(host, shot)

        assert other_host.call("grand_master", {"level": 100}) == {"ok": True, "grand_master": 100}
        expect(host.locator("#grand-master")).to_have_value("100")  # another console moved it: this one follows
        expect(host.locator("#grand-master-value")).to_have_text("100 %")
        universe_reads(receiver, full, "the stage look back at full")

        host.click("#panic")
        expect(host.locator("#panic-result")).to_contain_text("lights held")
        universe_reads(receiver, full, "the look held through PANIC")
        fader = host.locator("#grand-master")
        fader.focus()
        host.keyboard.press("ArrowLeft")  # a key moves the fader one step: one send (input and change both fire)
        expect(host.locator("#grand-master-value")).to_have_text("99 %")
        assert other_host.wait_for("dmx", lambda d: d["grand_master"] == 99)
        moves = other_host.call("audit", {"action": "grand_master"})["entries"]
        assert [e["detail"]["level"] for e in moves] == [99, 100, 50], moves  # newest first: nothing sent twice
        host.keyboard.press("Space")  # the fader has the arrows; Space is still GO, and it clears the PANIC line
        expect(cue(host, "7")).to_have_attribute("data-state", "standby")
        expect(host.locator("#panic-result")).to_be_hidden()
        drag_out_and_back(host, other_host)
        assert serious_violations(host) == [], "host page"
    finally:
        agent.close()
    assert pages.errors == []


def drag_out_and_back(host: Page, other_host) -> None:
    """A hand drags the fader down (the room follows while it moves) and back to where it began, and lets go: no
    `change` fires then (the value is where the drag began), yet the room ends at what the fader shows and the
    fader follows other consoles again."""
    box = host.locator("#grand-master").bounding_box()
    y, start = box["y"] + box["height"] / 2, box["x"] + box["width"] * 0.9
    host.mouse.click(start, y)  # the fader to where the drag will begin (a click is a send of its own)
    began = int(host.locator("#grand-master").input_value())
    other_host.wait_for("dmx", lambda d: d["grand_master"] == began)
    host.mouse.down()
    host.mouse.move(box["x"] + box["width"] * 0.3, y, steps=8)
    other_host.wait_for("dmx", lambda d: d["grand_master"] < began - 20)  # a throttled send while it moved
    host.mouse.move(start, y, steps=8)
    host.mouse.up()
    assert int(host.locator("#grand-master").input_value()) == began
    expect(host.locator("#grand-master-value")).to_have_text(f"{began} %")
    other_host.wait_for("dmx", lambda d: d["grand_master"] == began)
    assert other_host.call("grand_master", {"level": 100})["ok"]  # and the fader follows other consoles again
    expect(host.locator("#grand-master")).to_have_value("100")


def fade_was_shown(samples: list[list[float]]) -> None:
    """While the cue faded: the bar rose from near empty towards full, and the timer counted down from the fade's
    3 s; a snapshot arriving a little late may step either back by a few hundredths, never more."""
    assert len(samples) >= 3, samples
    values, timers = [s[0] for s in samples], [s[1] for s in samples]
    assert all(0 <= v <= 1 for v in values), values
    assert all(b >= a - 0.05 for a, b in zip(values, values[1:])), f"the fade bar went back: {values}"
    assert values[-1] > values[0], values
    assert all(0 <= t <= 3.0 for t in timers), timers
    assert all(b <= a + 0.15 for a, b in zip(timers, timers[1:])), f"the timer went up: {timers}"
    assert timers[-1] < timers[0], timers


def layout_shows_the_lights(host: Page, shot) -> None:
    """At each size: the node and the grand master within the first screen, the fader long, nothing wider than it."""
    for width, height in SIZES:
        host.set_viewport_size({"width": width, "height": height})
        shot(host, f"console-lights-{width}x{height}")  # before the checks: a failing layout is looked at too
        for target in ("#dmx-nodes li", "#grand-master", "#grand-master-value", "#osc-targets li"):
            box = host.locator(target).first.bounding_box()
            assert box and box["y"] + box["height"] <= height, f"{target} is below the fold at {width}x{height}"
        fader = host.locator("#grand-master").bounding_box()
        # As long as its column is wide (a level set by hand, one percent is about 3 px), not a stub beside its label.
        assert fader and fader["width"] >= 240, f"{width}x{height}: the fader is too short to set by hand: {fader}"
        assert host.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    host.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def test_a_show_without_dmx_shows_no_lighting_section(night, pages):
    server, _peers = night
    host = pages.desktop("host")
    log_in(host, server, "host", "/host")
    expect(host.locator("#cues li").first).to_be_visible()
    # The audit log's answer comes after every event the connect sent (one socket, in order): no `dmx` among them.
    expect(host.locator("#audit tr").first).to_be_attached()
    expect(host.locator("#dmx")).to_be_hidden()
    assert pages.errors == []
