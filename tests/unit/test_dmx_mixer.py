"""The light mixer at given times: exact DMX values for fades, curves, takeover, hold, blackout, the grand master,
16-bit pairs, homes, and a state that survives a restart (docs/plans/issue-21-dmx.md §2 and §4)."""

from __future__ import annotations

import json
import math
import threading

import pytest

from stage.dmx.mixer import CURVES, EPSILON, Mixer, aged
from stage.dmx.patch import Channel, Patch
from stage.errors import InvalidInput

T = 1000.0  # the FakeClock's start: times far from 0 catch a t0 taken as absolute


def _patch() -> Patch:
    """par-1 (RGBW + strobe) at slot 0 of universe 1, wash (dimmer, ct) at 100, a 16-bit spot on universe 2."""
    channels = {
        ("par-1", "dimmer"): Channel(1, 0), ("par-1", "red"): Channel(1, 1), ("par-1", "green"): Channel(1, 2),
        ("par-1", "blue"): Channel(1, 3), ("par-1", "white"): Channel(1, 4),
        ("par-1", "raw:strobe"): Channel(1, 5, home=255),
        ("wash", "dimmer"): Channel(1, 100), ("wash", "ct"): Channel(1, 101, home=128),
        ("spot", "pan"): Channel(2, 0, fine=1, home=32768), ("spot", "tilt"): Channel(2, 2, fine=3),
        ("spot", "dimmer"): Channel(2, 4, fine=5),
    }
    return Patch(channels=channels, universes=frozenset({1, 2}))


def q(v: float) -> int:
    return int(v * 255 + 0.5)


@pytest.fixture
def mixer() -> Mixer:
    return Mixer(_patch())


def test_linear_0_to_80_percent_over_2_s_is_102_at_1_s(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 0.8}, 2.0, "linear", T)
    assert mixer.frame(1, T)[0] == 0
    assert mixer.frame(1, T + 1.0)[0] == int(0.4 * 255 + 0.5) == 102
    assert mixer.frame(1, T + 2.0)[0] == 204
    assert mixer.frame(1, T + 99.0)[0] == 204
    assert mixer.levels(T + 1.0)["par-1"]["dimmer"] == 40.0


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_every_curve_at_several_points(mixer, curve):
    mixer.fire("5", {("par-1", "red"): 1.0}, 4.0, curve, T)
    expected = {"linear": lambda x: x, "s_curve": lambda x: 3 * x ** 2 - 2 * x ** 3, "ease_in": lambda x: x ** 2,
                "ease_out": lambda x: 1 - (1 - x) ** 2}[curve]
    for x in (0.0, 0.2, 0.25, 0.5, 0.75, 0.8, 1.0):  # none lands on a rounding edge (0.1·255 = 25.5)
        assert mixer.frame(1, T + 4.0 * x)[1] == q(expected(x)), x


def test_the_curves_have_their_shape():
    assert [CURVES["s_curve"](x) for x in (0.0, 0.25, 0.5, 0.75, 1.0)] == [0.0, 0.15625, 0.5, 0.84375, 1.0]
    assert [CURVES["ease_in"](x) for x in (0.0, 0.5, 1.0)] == [0.0, 0.25, 1.0]
    assert [CURVES["ease_out"](x) for x in (0.0, 0.5, 1.0)] == [0.0, 0.75, 1.0]


def test_a_fade_down_and_a_fade_that_ends_within_the_epsilon(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0}, 0, "linear", T)
    mixer.fire("6", {("par-1", "dimmer"): 0.0}, 2.0, "ease_in", T)
    assert mixer.frame(1, T + 1.0)[0] == q(1 - 0.25)
    assert mixer.running("6", T + 2.0 - 2 * EPSILON)
    assert not mixer.running("6", T + 2.0 - EPSILON / 2)  # the engine's end timer may land a hair early
    assert mixer.frame(1, T + 2.0 - EPSILON / 2)[0] == 0


def test_zero_fade_is_at_once_and_never_running(mixer):
    mixer.fire("5", {("par-1", "green"): 0.5}, 0, "linear", T)
    assert mixer.frame(1, T)[2] == q(0.5) == 128
    assert not mixer.running("5", T)
    assert not mixer.changing(1, T)


def test_takeover_mid_fade_starts_from_the_reached_level(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0, ("par-1", "red"): 1.0}, 2.0, "linear", T)
    mixer.fire("6", {("par-1", "dimmer"): 0.0}, 1.0, "linear", T + 1.0)  # dimmer was at 0.5
    assert mixer.frame(1, T + 1.0)[0] == q(0.5)  # no jump at the takeover
    assert mixer.frame(1, T + 1.5)[0] == q(0.25)
    assert mixer.frame(1, T + 1.5)[1] == q(0.75)  # red, untouched, keeps cue 5's fade
    assert mixer.running("5", T + 1.5) and mixer.running("6", T + 1.5)
    mixer.fire("7", {("par-1", "red"): 0.2}, 0, "linear", T + 1.5)  # cue 5 owns nothing mid-fade now
    assert not mixer.running("5", T + 1.5)
    assert mixer.running("6", T + 1.5)
    assert not mixer.running("6", T + 2.0)


def test_a_takeover_starts_from_the_level_before_the_grand_master(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 0.8}, 0, "linear", T)
    assert mixer.frame(1, T, grand_master=0.5)[0] == q(0.4)
    mixer.fire("6", {("par-1", "dimmer"): 0.0}, 2.0, "linear", T)
    assert mixer.frame(1, T + 1.0)[0] == q(0.4)  # from 0.8, not from the 0.4 that went out
    assert mixer.frame(1, T + 1.0, grand_master=0.5)[0] == q(0.2)


def test_a_fade_from_home(mixer):
    mixer.fire("5", {("wash", "ct"): 1.0}, 2.0, "linear", T)
    assert mixer.frame(1, T + 1.0)[101] == q((128 / 255 + 1.0) / 2)


def test_freeze_holds_at_the_level_now(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0, ("par-1", "blue"): 0.4}, 4.0, "linear", T)
    mixer.fire("6", {("par-1", "white"): 1.0}, 4.0, "linear", T)
    mixer.freeze("5", T + 1.0)
    assert not mixer.running("5", T + 1.0)
    for t in (T + 1.0, T + 2.0, T + 10.0):
        assert mixer.frame(1, t)[0] == q(0.25)
        assert mixer.frame(1, t)[3] == q(0.1)
    assert mixer.frame(1, T + 2.0)[4] == q(0.5)  # cue 6's fade goes on
    assert mixer.running("6", T + 2.0)


def test_blackout_with_a_fade_leaves_ct_pan_and_raw_alone(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0, ("par-1", "red"): 0.6, ("wash", "dimmer"): 0.8,
                     ("wash", "ct"): 0.3, ("spot", "pan"): 0.25, ("spot", "dimmer"): 1.0,
                     ("par-1", "raw:strobe"): 10 / 255}, 0, "linear", T)
    mixer.blackout(T, 2.0)
    assert mixer.running("panic", T + 1.0)
    one, two = mixer.frame(1, T + 1.0), mixer.frame(2, T + 1.0)
    assert (one[0], one[1], one[100]) == (q(0.5), q(0.3), q(0.4))
    assert (one[101], one[5]) == (q(0.3), 10)
    assert two[:2] == bytes([0x40, 0x00])  # pan 0.25 * 65535 + 0.5 = 16384
    assert two[4:6] == (32768).to_bytes(2, "big")  # the spot's dimmer halfway, 16-bit
    one, two = mixer.frame(1, T + 2.0), mixer.frame(2, T + 2.0)
    assert (one[0], one[1], one[2], one[100], two[4], two[5]) == (0, 0, 0, 0, 0, 0)
    assert (one[101], one[5], two[0]) == (q(0.3), 10, 0x40)
    assert not mixer.running("5", T + 1.0)  # panic owns its intensity now; ct and pan are static


def test_grand_master_scales_intensity_only(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0, ("par-1", "red"): 1.0, ("wash", "ct"): 1.0,
                     ("spot", "pan"): 1.0, ("spot", "dimmer"): 1.0}, 0, "linear", T)
    one, two = mixer.frame(1, T, 0.5), mixer.frame(2, T, 0.5)
    assert (one[0], one[1], one[101], one[5]) == (q(0.5), q(0.5), 255, 255)
    assert two[0:2] == b"\xff\xff"
    assert two[4:6] == int(0.5 * 65535 + 0.5).to_bytes(2, "big")
    assert mixer.frame(1, T, 0.0)[:2] == b"\x00\x00"
    assert mixer.levels(T)["par-1"]["dimmer"] == 100.0  # the console reads the level, not the output


def test_16_bit_split_and_homes(mixer):
    home1, home2 = mixer.frame(1, T), mixer.frame(2, T)
    assert len(home1) == len(home2) == 512 == len(mixer.frame(7, T))
    assert home1[5] == 255 and home1[101] == 128 and home1.count(0) == 510
    assert home2[:2] == bytes([128, 0]) and home2.count(0) == 511
    mixer.fire("5", {("spot", "pan"): 0.3, ("spot", "tilt"): 1.0}, 0, "linear", T)
    frame = mixer.frame(2, T)
    coarse_fine = int(0.3 * 65535 + 0.5)
    assert coarse_fine == 19661 and frame[0:2] == bytes([coarse_fine >> 8, coarse_fine & 0xFF]) == b"\x4c\xcd"
    assert frame[2:4] == b"\xff\xff"
    assert mixer.levels(T)["spot"] == {"pan": 30.0, "tilt": 100.0, "dimmer": 0.0}
    assert mixer.levels(T)["par-1"]["raw:strobe"] == 255.0  # raw channels read in DMX values


def test_changing_is_true_only_mid_fade_on_that_universe(mixer):
    assert not mixer.changing(1, T)
    mixer.fire("5", {("par-1", "dimmer"): 1.0}, 2.0, "linear", T)
    assert mixer.changing(1, T) and mixer.changing(1, T + 1.999)
    assert not mixer.changing(2, T + 1.0)
    assert not mixer.changing(1, T + 2.0)
    mixer.fire("6", {("par-1", "dimmer"): 0.0}, 10.0, "linear", T + 1.0)
    mixer.freeze("6", T + 3.0)
    assert not mixer.changing(1, T + 3.0)  # a held fade streams no more


def test_a_fade_to_the_same_level_lasts_its_time(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 0.0}, 3.0, "linear", T)
    assert mixer.running("5", T + 2.0) and mixer.changing(1, T + 2.0)
    assert not mixer.running("5", T + 3.0)


def test_state_is_json_and_restore_holds(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0, ("wash", "ct"): 0.2}, 4.0, "s_curve", T)
    mixer.fire("6", {("spot", "pan"): 0.75}, 0, "linear", T)
    saved = json.loads(json.dumps(mixer.state(T + 1.0)))
    assert saved["fixtures"]["par-1"]["dimmer"] == {"from": 0.0, "to": 1.0, "elapsed": 1.0, "fade": 4.0,
                                                    "curve": "s_curve", "owner": "5"}
    assert saved["fixtures"]["spot"]["pan"] == {"level": 0.75, "owner": "6"}

    after = Mixer(_patch())  # a new process: its clock starts anywhere
    after.restore(saved, 5.0)
    reached = CURVES["s_curve"](0.25)
    for t in (5.0, 9.0, 500.0):
        assert after.frame(1, t)[0] == q(reached)
        assert after.frame(1, t)[101] == q(128 / 255 + (0.2 - 128 / 255) * reached)
        assert after.frame(2, t)[0:2] == int(0.75 * 65535 + 0.5).to_bytes(2, "big")
    assert not after.running("5", 5.0) and not after.changing(1, 5.0)


def test_an_aged_state_holds_where_the_fade_had_got_to(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 1.0}, 4.0, "linear", T)
    saved = mixer.state(T)  # saved as the cue fires, restored 3 s later by the wall clock
    after = Mixer(_patch())
    after.restore(aged(saved, 3.0), 0.0)
    assert after.frame(1, 0.0)[0] == q(0.75)
    after.restore(aged(saved, 30.0), 0.0)
    assert after.frame(1, 0.0)[0] == 255


def test_restore_skips_what_does_not_read(mixer, caplog):
    state = {"version": 1, "fixtures": {"gone": {"dimmer": {"level": 1.0}},
                                        "par-1": {"red": {"level": 7}, "green": {"from": 0, "to": 1, "fade": 2,
                                                                                 "elapsed": 1, "curve": "wobble"},
                                                  "blue": {"level": 0.5, "owner": "9"}}}}
    mixer.fire("5", {("par-1", "white"): 1.0}, 0, "linear", T)
    mixer.restore(state, T)
    assert mixer.frame(1, T)[1:5] == bytes([0, 0, q(0.5), 0])  # white was not in the state: home again
    assert sum("skipping" in r.message for r in caplog.records) == 3
    mixer.restore({"nonsense": True}, T)
    assert mixer.frame(1, T)[3] == 0


def test_fire_refuses_what_it_cannot_do_and_changes_nothing(mixer):
    mixer.fire("5", {("par-1", "dimmer"): 0.5}, 0, "linear", T)
    for targets, fade, curve in [({("par-1", "amber"): 1.0}, 0, "linear"), ({("par-1", "red"): 1.5}, 0, "linear"),
                                 ({("par-1", "red"): math.nan}, 0, "linear"), ({("par-1", "red"): 1}, -1, "linear"),
                                 ({("par-1", "red"): 1}, 1, "wobble"),
                                 ({("par-1", "dimmer"): 1.0, ("ghost", "dimmer"): 1.0}, 0, "linear")]:
        with pytest.raises(InvalidInput):
            mixer.fire("6", targets, fade, curve, T)
    assert mixer.frame(1, T)[:2] == bytes([q(0.5), 0])


def test_frames_read_whole_fires_while_another_thread_fires(mixer):
    """The frame loop reads while the engine fires: every frame shows one fire or the next, never half of one."""
    keys = [("par-1", p) for p in ("dimmer", "red", "green", "blue", "white")]
    stop = threading.Event()

    def fire() -> None:
        level = 0
        while not stop.is_set():
            level = 1 - level
            mixer.fire("5", {key: float(level) for key in keys}, 0, "linear", T)

    thread = threading.Thread(target=fire)
    thread.start()
    try:
        seen = {mixer.frame(1, T)[:5] for _ in range(20000)}
    finally:
        stop.set()
        thread.join()
    assert seen <= {bytes(5), b"\xff" * 5}
