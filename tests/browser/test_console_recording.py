"""The host console during a take, in Chromium against a real server and a capture agent peer: "● REC <rig>"
under GO while the rig records, the performance group cue running (not "done") until its take stops, axe-core
clean, and a layout that uses 1440x900 and 1920x1080 (screenshots console-host-<size>.png, looked at)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.agent_peer import AgentPeer
from tests.browser.test_console_accidents import SIZES, serious_violations, submit
from tests.browser.test_consoles_browser import cue, log_in
from tests.peers import go


def performance_ready(stage, peers) -> dict:
    """The demo night to its performance: a story approved and sent to main, Ada volunteering, cue 5 in standby."""
    host, moderation = peers.host(), peers.moderation()
    go(host), go(host)  # join scene, prompt open
    phone = peers.phone("Ada")
    story = submit(phone, "The cape flew off the line and over the town.")
    assert moderation.call("moderate", {"id": story, "decision": "approve"})["ok"]
    assert host.call("send_to_display", {"display": "main", "record": story})["ok"]
    assert phone.call("volunteer", {"consent_version": "1", "story": story})["ok"]
    assert host.call("jump", {"cue": "5"})["ok"]
    return {"host": host, "phone": phone, "story": story}


def test_the_host_shows_rec_and_the_performance_runs_until_its_take_stops(stage, peers, pages, shot):
    agent = AgentPeer(stage.url)
    try:
        ready = performance_ready(stage, peers)
        for n, text in enumerate(("A cape that only works on Tuesdays", "spoiler: the cape was the cat")):
            submit(peers.phone(f"Guest {n}"), text)  # something waiting in moderation, as on a real night
        host = pages.desktop("host", *SIZES[0])
        log_in(host, stage, "host", "/host")
        expect(cue(host, "5")).to_have_attribute("data-state", "standby")
        rec = host.locator("#rec")
        expect(rec).to_have_text("Not recording")
        expect(host.locator("#go-next")).to_have_text("Next: cue 5 · Performance — lights, story, camera")
        expect(host.locator("#stop")).to_be_disabled()  # nothing runs: nothing to stop

        host.click("#go")  # lights, the story on main, the camera rolls
        kind, command = agent.next_command()
        assert kind == "record"
        assert agent.send("take_state", {"take_id": command["take_id"], "state": "recording", "reason": None})["ok"]
        expect(rec).to_have_text("● REC stage")
        expect(rec).to_have_class(re.compile("is-recording"))
        assert agent.health()["ok"]
        expect(cue(host, "5.3")).to_have_class(re.compile("is-recording"))
        expect(cue(host, "5.3").locator(".cue-state")).to_have_text("● REC")
        expect(cue(host, "5.1")).to_have_attribute("data-state", "done")  # the lighting cue went out
        # The agent's reports came and went: the group still runs, its take still rolls.
        expect(host.locator('#rig-list li[data-name="stage"]')).to_have_attribute("data-state", "recording")
        expect(cue(host, "5")).to_have_attribute("data-state", "running")
        expect(cue(host, "5.3")).to_have_attribute("data-state", "running")
        expect(host.locator("#stop")).to_be_enabled()
        layout_fills_the_screen(host, shot)

        host.click("#go")  # cue 6: cut, the take stops, lights back
        assert agent.next_command()[0] == "stop"
        assert agent.send("take_state", {"take_id": command["take_id"], "state": "stopped", "reason": None})["ok"]
        assert agent.health()["ok"]  # its next report: not recording
        expect(cue(host, "5")).to_have_attribute("data-state", "done")
        expect(cue(host, "5.3")).to_have_attribute("data-state", "done")
        expect(rec).to_have_text("Not recording")
        expect(rec).not_to_have_class(re.compile("is-recording"))
        assert serious_violations(host) == [], "host page"
    finally:
        agent.close()
    assert pages.errors == []


def layout_fills_the_screen(host: Page, shot) -> None:
    """At each size: cue names on one line, three columns side by side and none empty, and at 1440x900 the
    displays and OSC status within the first screen."""
    for width, height in SIZES:
        host.set_viewport_size({"width": width, "height": height})
        shot(host, f"console-host-{width}x{height}")  # before the checks: a failing layout is looked at too
        lines = host.locator("#cues li .cue-name").evaluate_all("""names => names.map(n => {
            const lineHeight = parseFloat(getComputedStyle(n).lineHeight) || 20;
            return [n.textContent, Math.round(n.getBoundingClientRect().height / lineHeight)];
        })""")
        assert all(count == 1 for _, count in lines), f"{width}x{height}: cue names on more than one line: {lines}"
        columns = host.locator(".host-col").evaluate_all("""cols => cols.map(c => {
            const box = c.getBoundingClientRect();
            return {left: box.left, top: box.top, width: box.width, height: box.height};
        })""")
        assert len(columns) == 3 and columns[0]["left"] < columns[1]["left"] < columns[2]["left"], columns
        assert len({round(c["top"]) for c in columns}) == 1, columns
        assert all(c["height"] >= 0.35 * height for c in columns), f"{width}x{height}: a column is nearly empty"
        for target in ("#display-list li", "#osc-targets li", "#rig-list li", "#rec", "#go"):
            box = host.locator(target).first.bounding_box()
            assert box and box["y"] + box["height"] <= height, f"{target} is below the fold at {width}x{height}"
        assert host.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    host.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
