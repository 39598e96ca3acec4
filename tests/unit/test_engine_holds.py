"""A cue whose action lasts (a record cue while its take rolls): it and its group stay running until the take ends.

The engine with a fake clock and a real store; the actions stand in for the rigs (tests/integration and the
browser tests drive the same path with a real capture agent peer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stage.records.sqlite_store import SqliteStore
from stage.show.clock import FakeClock
from stage.show.engine import CueEngine
from stage.show.loader import parse_show
from stage.show.playback import HOLD_CHECK_SECONDS, Ongoing

HEAD = """
title: Holds test
displays: [{name: main}]
rigs: [{name: stage, camera: test, microphone: none}]
cues:
"""

PERFORMANCE = """
  - id: "5"
    type: group
    cues:
      - {type: note, name: lights}
      - {type: record, name: Roll, rig: stage}
  - {id: "6", type: record, rig: stage, action: stop}
"""


class Rigs:
    """Record cues as CueDispatch fires them: start returns an Ongoing that lasts while ``rolling``."""

    def __init__(self) -> None:
        self.rolling = False
        self.looks = 0
        self.broken = False

    def fire(self, cue, actor):
        if cue.type != "record":
            return None
        self.rolling = cue.action == "start"
        return Ongoing(self.running, {"recording": cue.rig}) if self.rolling else None

    def running(self) -> bool:
        self.looks += 1
        if self.broken:
            raise RuntimeError("the rig table is gone")
        return self.rolling

    def panic(self, actor):
        self.rolling = False
        return {"scene": "hold", "problems": []}


@pytest.fixture
def night(tmp_path: Path):
    made = []

    def make(cues: str = PERFORMANCE):
        store = SqliteStore(tmp_path / f"{len(made)}.db")
        clock, rigs, snapshots = FakeClock(), Rigs(), []
        engine = CueEngine(parse_show(HEAD + cues), store, rigs, snapshots.append, clock)
        made.append(store)
        return engine, clock, rigs, snapshots

    yield make
    for store in made:
        store.close()


def states(engine: CueEngine) -> dict[str, dict]:
    return {c["id"]: c for c in engine.snapshot()["cues"]}


def test_the_group_runs_while_its_take_rolls_and_is_done_once_the_stop_cue_ends_it(night):
    engine, clock, rigs, snapshots = night()
    assert engine.go("host")["state"] == "running"  # not "done" while the camera rolls
    clock.advance(60)
    now = states(engine)
    assert now["5"]["state"] == "running" and now["5"]["elapsed"] == 60
    assert now["5.2"]["state"] == "running" and now["5.2"]["recording"] == "stage"
    assert now["5.1"]["state"] == "done"
    assert engine.snapshot()["running"] == ["5", "5.2"]
    engine.go("host")  # the stop cue: the take ends, and the same change says so (no wait for the next look)
    assert snapshots[-1]["running"] == []
    after = {c["id"]: c for c in snapshots[-1]["cues"]}
    assert after["5"]["state"] == "done" and after["5.2"]["state"] == "done" and "recording" not in after["5.2"]


def test_a_take_stopped_elsewhere_ends_the_cue_at_the_next_look(night):
    engine, clock, rigs, snapshots = night()
    engine.go("host")
    rigs.rolling = False  # the crew console's Stop, or the agent itself
    clock.advance(HOLD_CHECK_SECONDS / 2)
    assert states(engine)["5"]["state"] == "running"
    clock.advance(HOLD_CHECK_SECONDS / 2)
    assert states(engine)["5"]["state"] == "done" and snapshots[-1]["running"] == []


def test_auto_follow_after_a_record_cue_waits_for_the_end_of_the_take(night):
    engine, clock, rigs, _ = night("""
  - {id: "1", type: record, rig: stage, continue: auto_follow}
  - {id: "2", type: note}
""")
    engine.go("host")
    clock.advance(10)
    assert states(engine)["2"]["state"] == "standby"
    rigs.rolling = False
    clock.advance(HOLD_CHECK_SECONDS)
    assert states(engine)["1"]["state"] == "done" and states(engine)["2"]["state"] == "done"


def test_stop_all_stops_the_cue_and_its_looks(night):
    engine, clock, rigs, _ = night()
    engine.go("host")
    clock.advance(2)
    engine.stop("host")
    looks = rigs.looks
    clock.advance(30)
    assert rigs.looks == looks, "a stopped cue is not looked at any more"
    assert states(engine)["5"]["state"] == "stopped" and states(engine)["5.2"]["state"] == "stopped"


def test_one_pending_look_at_a_time_however_long_the_take(night):
    engine, clock, rigs, _ = night()
    engine.go("host")
    clock.advance(600)
    pending = [entry for entry in clock._queue if not entry[2].cancelled]
    assert len(pending) == 1  # the next look, not one per look so far


def test_a_look_that_fails_ends_the_cue_in_error_instead_of_holding_the_group(night):
    engine, clock, rigs, _ = night()
    engine.go("host")
    rigs.broken = True
    clock.advance(HOLD_CHECK_SECONDS)
    now = states(engine)
    assert now["5.2"]["state"] == "error" and "could not tell" in now["5.2"]["error"]
    assert now["5"]["state"] == "error" and "5.2" in now["5"]["error"]


def test_a_restart_mid_take_reads_stopped_without_the_recording_mark(night, tmp_path):
    engine, clock, rigs, _ = night()
    engine.go("host")
    engine.reload()  # what a restart or a takeover reads back from the store
    row = states(engine)["5.2"]
    assert row["state"] == "stopped" and "recording" not in row and "elapsed" not in row
