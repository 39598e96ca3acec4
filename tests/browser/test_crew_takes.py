"""The crew console in Chromium: a rig with live health, a labelled audio level and preview, its camera
operator set for the night, a take played, circled and trimmed, and the remix panel's take list live."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.agent_peer import AgentPeer, upload
from tests.chromium import ARTIFACTS
from tests.browser.test_consoles_browser import log_in
from tests.browser.test_phone_quality import serious_violations
from tests.peers import go
from tests.take_files import make_take


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 180), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_crew_sees_a_rig_and_plays_circles_and_trims_a_take(stage, peers, pages, shot, tmp_path):
    agent = AgentPeer(stage.url)
    crew_peer = peers.crew()
    data = make_take(tmp_path / "take.mp4", seconds=3.0).read_bytes()

    crew = pages.desktop("crew")
    log_in(crew, stage, "crew", "/crew")
    rig = crew.locator('#rig-list li[data-rig="stage"]')
    expect(rig).to_have_attribute("data-state", "online")
    expect(crew.locator("#takes-empty")).to_be_visible()
    expect(crew.locator("#remix-take option")).to_have_count(0)
    expect(crew.locator("#remix-take")).to_be_disabled()  # nothing to pick yet, and it looks it

    operator = rig.get_by_label("Camera operator")
    expect(operator).to_have_value("Sam")  # the demo show's rigs[].operator
    operator.fill("Lee")
    rig.get_by_role("button", name="Set operator").click()
    expect(rig.locator(".rig-operator-state")).to_have_text("Takes are credited “filmed by Lee”.")
    assert crew_peer.wait_for("rigs", lambda r: r["rigs"][0]["operator"] == "Lee")

    rig.get_by_role("button", name="● Record").click()
    kind, command = agent.next_command()
    take_id = command["take_id"]
    assert kind == "record" and command["slate"]["take"] == 1 and command["slate"]["operator"] == "Lee"
    expect(rig).to_have_attribute("data-state", "recording")
    rig.get_by_role("button", name="■ Stop").click()
    assert agent.next_command() == ("stop", {"take_id": take_id})
    expect(rig).to_have_attribute("data-state", "online")
    assert upload(agent, take_id, data).ok  # the page is open: the take arrives live
    expect(rig.locator(".rig-upload")).to_have_text("Take 1 stored")
    # ...in the remix panel too, without a refresh button (there is none any more)
    expect(crew.locator("#remix-take option")).to_have_count(1)
    expect(crew.locator("#remix-take option")).to_have_attribute("value", take_id)
    expect(crew.locator("#remix-take")).to_be_enabled()
    agent.health(fps_in=29.9, dropped=2, audio_db=-12.0)
    expect(rig.locator(".rig-health")).to_contain_text("in 29.9 fps")
    expect(rig.locator(".rig-health")).to_contain_text("dropped 2")
    meter = rig.get_by_role("meter", name="Audio level")  # a visible label that names it
    expect(meter).to_have_js_property("value", -12)
    expect(rig.locator(".rig-level-value")).to_have_text("-12 dBFS")

    rig.locator("button.watch").click()
    expect(rig.locator(".rig-preview")).to_be_visible()
    agent.send("preview", {"jpeg": jpeg((250, 40, 40))})
    expect(rig.locator(".rig-preview")).to_have_js_property("naturalWidth", 320)

    take = crew.locator(f'#takes li.take[data-id="{take_id}"]')
    expect(take).to_contain_text("Take 1 · stage")
    expect(take).to_contain_text("filmed by Lee")
    expect(crew.locator("#takes h3")).to_have_text("No story chosen")
    video = take.locator("video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    crew.wait_for_function("v => v.readyState >= 3 && v.currentTime > 0.5", arg=video.element_handle(),
                           timeout=15_000)  # the take plays

    take.locator("button.circle").click()
    expect(crew.locator(f'#takes li.take[data-id="{take_id}"]')).to_have_class("take record is-circled")
    take = crew.locator(f'#takes li.take[data-id="{take_id}"]')
    take.locator('input[name="in"]').fill("2")
    take.locator('input[name="out"]').fill("1")
    take.get_by_role("button", name="Set in/out").click()
    expect(crew.locator("#take-error")).to_contain_text("must come before the out point")
    take.locator('input[name="in"]').fill("0.5")
    take.locator('input[name="out"]').fill("2.5")
    take.get_by_role("button", name="Set in/out").click()
    expect(crew.locator("#take-error")).to_be_hidden()
    saved = crew_peer.call("takes")["takes"][0]
    assert (saved["circled"], saved["in_point"], saved["out_point"]) == (True, 0.5, 2.5)
    trimmed = crew.locator(f'#takes li.take[data-id="{take_id}"] video')
    expect(trimmed).to_have_attribute("src", f"/media/{saved['sha256']}.mp4#t=0.5,2.5")
    expect(crew.locator(f'#takes li.take[data-id="{take_id}"] .text')).to_contain_text("plays 0.5–2.5 s")
    trimmed.evaluate("v => new Promise((ok) => v.readyState >= 1 ? ok() : v.addEventListener('loadedmetadata', ok))")
    assert trimmed.evaluate("v => v.currentTime") == 0.5, "the trimmed take starts at its in point"
    shot(crew, "crew-takes")
    crew.screenshot(path=str(ARTIFACTS / "crew-console-full.png"), full_page=True, animations="disabled")
    assert serious_violations(crew) == []
    agent.close()
    expect(rig).to_have_attribute("data-state", "offline")
    assert pages.errors == []


def test_the_crew_page_opens_one_connection_and_hears_each_broadcast_once(stage, peers, pages):
    """crew.js, takes.js and remix.js share the page's one /crew socket (Stage.connect): with a socket of
    its own, remix.js opened a second connection, and every crew broadcast arrived twice."""
    crew = pages.desktop("crew")
    sockets, cues = [], []

    def watch(ws) -> None:
        sockets.append(ws)
        ws.on("framereceived", lambda frame: cues.append(frame) if str(frame).startswith('42/crew,["cues"') else None)

    crew.on("websocket", watch)
    log_in(crew, stage, "crew", "/crew")
    expect(crew.locator("#conn")).to_have_attribute("data-state", "online")
    expect(crew.locator("#cues li").first).to_be_visible()  # crew.js got its cue list
    expect(crew.locator("#takes-empty")).to_be_visible()  # takes.js got its library
    expect(crew.locator("#remix-take")).to_be_attached()  # remix.js asked for its sources on the same socket
    before, host = len(cues), peers.host()
    for _ in range(2):  # two GOs, one cue list broadcast each; a second socket's copies would be counted too
        with sockets[0].expect_event("framereceived", predicate=lambda frame: str(frame).startswith('42/crew,["cues"')):
            go(host)
    assert len(cues[before:]) == 2, cues[before:]  # each once: no copy from a second connection
    assert len([ws for ws in sockets if "/socket.io/" in ws.url]) == 1, [ws.url for ws in sockets]
    assert pages.errors == []
