"""DmxOutput against real receivers on the loopback, ticked at exact times the test chooses: exact frames, the
sACN and Art-Net rates, poke, dry run, the Stream_Terminated goodbye, sequences, lateness. Unicast to 127.0.0.1
only: multicast and broadcast never go on the wire in a test."""

from __future__ import annotations

import logging
import time

from stage.dmx.output import DmxOutput
from stage.show.dmx import DmxNode
from tests.dmx.receivers import ArtNetReceiver, SacnReceiver, artnet_sequence_ok, sacn_sequence_ok
from tests.dmx.rig import CID, NAME, PERIOD, RATE, T0, Source, artnet, frame_of, ramp, sacn, sent_at


def test_each_tick_of_a_fade_sends_that_moment_s_frame_then_three_repeats(rig, receivers) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.fades[1] = (T0, 1.0, ramp)
    out, driver, _ = rig([sacn("left", rx.port, priority=120)], source, rx)
    driver.tick(45)
    frames = rx.settle()
    # A frame at each of the 40 ticks while the fade runs, then 3 repeats (at 1.0 s the fade is over, and its
    # 8-bit end was already reached at 0.975 s), then silence until the keep-alive.
    assert len(frames) == 43
    for k, packet in enumerate(frames):
        assert bytes(packet.dmxData) == ramp(min(1.0, (T0 + k * PERIOD - T0) / 1.0)), f"frame {k}"
    assert [bytes(p.dmxData) for p in frames[39:]] == [ramp(1.0)] * 4
    assert frames[20].dmxData[:2] == (128, 127) and frames[20].dmxData[511] == 7
    assert [p.sequence for p in frames] == list(range(43))
    assert {(p.universe, p.priority, p.sourceName, p.cid, p.option_StreamTerminated) for p in frames} == {
        (1, 120, NAME, tuple(CID), False)}
    assert out.status()["left"] == {"status": "ok", "error": None, "protocol": "sacn",
                                    "address": f"127.0.0.1:{rx.port}", "universes": [1], "frames": 43, "dropped": 0}
    assert out.stats() == {"frames": 43, "late": 0, "max_late_ms": 0.0}


def test_sacn_repeats_a_change_three_times_then_keeps_alive_every_second(rig, receivers) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.static[1] = frame_of({1: 204, 2: 255})
    out, driver, _ = rig([sacn("left", rx.port, source_name="Bar 🍸")], source, rx)
    assert sent_at(out, driver, "left", 130) == [0, 1, 2, 3, 43, 83, 123]
    frames = rx.settle()
    assert [bytes(p.dmxData) for p in frames] == [source.static[1]] * 7
    assert [p.sequence for p in frames] == list(range(7))
    assert {p.sourceName for p in frames} == {"Bar 🍸"}


def test_art_net_sends_a_change_once_then_keeps_alive_every_second(rig, receivers) -> None:
    rx = receivers(ArtNetReceiver)
    source = Source()
    source.static[0] = frame_of({1: 10})
    out, driver, _ = rig([artnet("bar", rx.port)], source, rx)
    assert sent_at(out, driver, "bar", 100) == [0, 40, 80]
    source.static[0] = frame_of({1: 99, 3: 1})
    out.poke()
    assert sent_at(out, driver, "bar", 45) == [100, 140]
    frames = rx.settle()
    assert [(f.universe, f.sequence, f.physical) for f in frames] == [(0, s, 0) for s in range(1, 6)]
    assert [f.data for f in frames] == [frame_of({1: 10})] * 3 + [source.static[0]] * 2


def test_a_poke_sends_a_new_frame_at_the_next_tick_not_at_the_keep_alive(rig, receivers) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.static[1] = frame_of({1: 1})
    out, driver, _ = rig([sacn("left", rx.port)], source, rx)
    assert sent_at(out, driver, "left", 10) == [0, 1, 2, 3]
    source.static[1] = frame_of({1: 2})  # a cue with no fade, not poked: seen at the keep-alive
    assert sent_at(out, driver, "left", 34) == [43]
    source.static[1] = frame_of({1: 3})
    out.poke()
    assert sent_at(out, driver, "left", 5) == [44, 45, 46, 47]
    assert [p.dmxData[0] for p in rx.settle()] == [1] * 4 + [2] + [3] * 4


def test_a_dry_run_sends_nothing_and_logs_a_few_lines_a_second(rig, receivers, caplog) -> None:
    rx, art_rx = receivers(SacnReceiver), receivers(ArtNetReceiver)
    source = Source()
    source.fades[1] = (T0, 1.0, lambda x: frame_of({1: 204, 2: int(x * 255 + 0.5)}))
    source.static[0] = frame_of({5: 9})
    nodes = [sacn("left", rx.port), artnet("bar", art_rx.port),
             DmxNode(name="everyone", protocol="sacn", send="multicast", universes=(1,))]
    caplog.set_level(logging.INFO, logger="stage.dmx.output")
    out, driver, statuses = rig(nodes, source, rx, art_rx, dry_run=True)
    driver.tick(50)
    assert rx.settle() == [] and art_rx.settle() == []
    assert {name: s["status"] for name, s in out.status().items()} == dict.fromkeys(["left", "bar", "everyone"],
                                                                                   "dry_run")
    assert out.status()["everyone"]["address"] == "multicast 239.255.x.y:5568"
    assert statuses == []
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("DMX dry run: u1:")]
    # 4 lines in the fade's first second (the throttle), then its last frame, always.
    assert lines == ["DMX dry run: u1: 1=204", "DMX dry run: u1: 1=204 2=6", "DMX dry run: u1: 1=204 2=13",
                     "DMX dry run: u1: 1=204 2=19", "DMX dry run: u1: 1=204 2=255"]
    assert [r.getMessage() for r in caplog.records if "u0:" in r.getMessage()] == ["DMX dry run: u0: 5=9"]


def test_close_says_goodbye_with_three_stream_terminated_frames(rig, receivers) -> None:
    rx, art_rx = receivers(SacnReceiver), receivers(ArtNetReceiver)
    source = Source()
    source.static[1] = frame_of({1: 50})
    out, driver, _ = rig([sacn("left", rx.port), artnet("bar", art_rx.port, universes=(1,))], source, rx, art_rx)
    driver.tick(2)
    out.close()
    driver.tick(5)  # a closed output sends nothing more
    frames = rx.settle()
    assert [(p.sequence, p.option_StreamTerminated) for p in frames] == [(0, False), (1, False), (2, True),
                                                                         (3, True), (4, True)]
    assert {bytes(p.dmxData) for p in frames} == {source.static[1]}
    assert [f.sequence for f in art_rx.settle()] == [1]  # Art-Net has no goodbye; its node times out


def test_sequences_run_on_and_wrap_over_many_frames(rig, receivers) -> None:
    rx, art_rx = receivers(SacnReceiver), receivers(ArtNetReceiver)
    source = Source()
    source.fades[1] = (T0, 600.0, ramp)
    out, driver, _ = rig([sacn("left", rx.port), artnet("bar", art_rx.port, universes=(1,))], source, rx, art_rx)
    driver.tick(600)
    sequences = [p.sequence for p in rx.settle()]
    assert len(sequences) == 600 and sequences[255:257] == [255, 0] and sacn_sequence_ok(sequences)
    art = [f.sequence for f in art_rx.settle()]
    assert len(art) == 600 and art[254:256] == [255, 1] and artnet_sequence_ok(art)


def test_a_tick_over_one_period_late_sends_one_frame_and_is_counted(rig, receivers) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.fades[1] = (T0, 600.0, ramp)
    out, _, _ = rig([sacn("left", rx.port)], source, rx)
    out.tick(T0)
    out.tick(T0 + 3.5 * PERIOD)  # woke 2.5 periods after its slot: one frame, not three
    out.tick(T0 + 4 * PERIOD)  # the next slot is back on the schedule
    out.tick(T0 + 4.5 * PERIOD)  # before the next slot: nothing is due
    out.tick(T0 + 5.5 * PERIOD)  # half a period late: sent, not counted as late
    assert out.stats() == {"frames": 4, "late": 1, "max_late_ms": 62.5}
    frames = rx.settle()
    assert [bytes(p.dmxData) for p in frames] == [ramp(t / 600.0) for t in (0, 3.5 * PERIOD, 4 * PERIOD,
                                                                            5.5 * PERIOD)]


def test_one_universe_failing_does_not_silence_the_others(rig, receivers, caplog) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.static[1] = frame_of({1: 1})
    source.broken.add(2)
    out, driver, _ = rig([sacn("left", rx.port, universes=(1, 2))], source, rx)
    driver.tick(1)
    assert [p.universe for p in rx.settle()] == [1]
    assert out.status()["left"]["status"] == "ok"
    assert "DMX frame of universe 2 failed" in caplog.text


def test_the_loop_runs_by_itself_and_stops_on_close(receivers) -> None:
    rx = receivers(SacnReceiver)
    source = Source()
    source.fades[1] = (time.monotonic(), 600.0, ramp)
    out = DmxOutput([sacn("left", rx.port)], rate=RATE, source=source, cid=CID, default_source_name=NAME,
                    random_sequence=False)
    try:
        out.start()
        rx.wait_for(lambda frames: len(frames) >= 5, what="frames from the running loop")
    finally:
        out.close()
    frames = rx.wait_for(lambda frames: frames and frames[-1].option_StreamTerminated, what="the goodbye")
    assert [p.option_StreamTerminated for p in frames[-3:]] == [True] * 3
    assert sacn_sequence_ok([p.sequence for p in frames])
    assert out._done.is_set()
