"""The cue engine with a fake clock: every timing rule exactly, against a real store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from stage.errors import CueError
from stage.records.sqlite_store import SqliteStore
from stage.records.store import Store
from stage.show.clock import FakeClock
from stage.show.engine import CueEngine
from stage.show.loader import parse_show

HEAD = """
title: Engine test
displays: [{name: main}]
prompts: [{id: cape, text: A cape}]
osc_targets: [{name: lights, host: 127.0.0.1, port: 9000}]
"""


class Actions:
    """Records each fire with the fake time; osc cues fail like a missing part does."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.fired: list[tuple[float, str]] = []
        self.panics = 0

    def fire(self, cue, actor):
        if cue.type == "osc":
            raise CueError("no OSC here")
        self.fired.append((round(self.clock.now() - 1000, 3), cue.id))

    def panic(self, actor):
        self.panics += 1
        return {"scene": "blank", "problems": []}


class Rig:
    def __init__(self, tmp_path: Path, cues: str, debounce: int = 0, store: Store | None = None) -> None:
        self.show = parse_show(f"{HEAD}go_debounce_ms: {debounce}\ncues:\n{cues}")
        self.store = store or SqliteStore(tmp_path / "stage.db")
        self.clock = FakeClock()
        self.actions = Actions(self.clock)
        self.snapshots: list[dict] = []
        self.engine = CueEngine(self.show, self.store, self.actions, self.snapshots.append, self.clock)

    def state(self, cue_id: str) -> dict:
        return next(c for c in self.engine.snapshot()["cues"] if c["id"] == cue_id)

    def states(self) -> dict[str, str]:
        return {c["id"]: c["state"] for c in self.engine.snapshot()["cues"]}


@pytest.fixture
def rig(tmp_path):
    made: list[Rig] = []

    def make(cues: str, debounce: int = 0) -> Rig:
        made.append(Rig(tmp_path / str(len(made)), cues, debounce))
        return made[-1]

    yield make
    for r in made:
        r.store.close()


NOTES = """
  - {type: note, name: one}
  - {type: note, name: two}
  - {type: note, name: three}
"""


def test_go_fires_standby_and_moves_on_until_the_end(rig):
    r = rig(NOTES)
    assert r.engine.standby == "1"
    assert r.engine.go("host") == {"cue": "1", "state": "done"}
    assert r.states() == {"1": "done", "2": "standby", "3": "ready"}
    r.engine.go("host")
    r.engine.go("host")
    assert r.engine.standby is None
    with pytest.raises(CueError) as info:
        r.engine.go("host")
    assert info.value.code == "end_of_list"


def test_go_storms_are_debounced_and_every_press_is_logged(rig):
    r = rig(NOTES, debounce=200)
    assert r.engine.go("host:a")["cue"] == "1"
    r.clock.advance(0.1)
    assert r.engine.go("host:b") == {"debounced": True, "standby": "2"}
    r.clock.advance(0.099)
    assert r.engine.go("host:a")["debounced"]
    r.clock.advance(0.2)
    assert r.engine.go("host:a")["cue"] == "2"
    actions = [(row["actor"], row["action"]) for row in r.store.query("SELECT actor, action FROM audit ORDER BY seq")]
    assert actions == [("host:a", "go"), ("host:b", "go_debounced"), ("host:a", "go_debounced"), ("host:a", "go")]


def test_two_hosts_pressing_go_at_once_advance_exactly_once(rig):
    r = rig(NOTES, debounce=200)
    barrier = threading.Barrier(2)
    results = []

    def press(actor):
        barrier.wait()
        results.append(r.engine.go(actor))

    threads = [threading.Thread(target=press, args=(f"host:{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted("debounced" in res for res in results) == [False, True]
    assert r.engine.standby == "2"


def test_pre_wait_delays_the_action(rig):
    r = rig("  - {type: prompt, prompt: cape, pre_wait: 2}\n  - {type: note}\n")
    fired = r.engine.go("host")
    assert fired["state"] == "pre_wait" and r.actions.fired == []
    assert r.state("1")["remaining"] == 2 and r.engine.standby == "2"
    r.clock.advance(1.5)
    assert r.state("1")["remaining"] == 0.5
    r.clock.advance(0.5)
    assert r.actions.fired == [(2.0, "1")] and r.state("1")["state"] == "done"


def test_post_wait_counts_from_the_start_and_auto_continue_fires_the_next_cue(rig):
    r = rig("""
  - {type: prompt, prompt: cape, pre_wait: 1, post_wait: 3, continue: auto_continue}
  - {type: display, display: main, scene: wall}
  - {type: note}
""")
    r.engine.go("host")
    r.clock.advance(1)
    assert r.state("1")["state"] == "post_wait" and r.state("1")["remaining"] == 3
    r.clock.advance(2.9)
    assert r.actions.fired == [(1.0, "1")]
    r.clock.advance(0.1)
    assert r.actions.fired == [(1.0, "1"), (4.0, "2")]
    assert r.states()["1"] == "done" and r.engine.standby == "3"
    assert [row["action"] for row in r.store.query("SELECT action FROM audit ORDER BY seq")] == ["go", "auto_continue"]


def test_auto_follow_waits_for_the_action_to_end(rig):
    r = rig("""
  - {type: wait, seconds: 5, continue: auto_follow}
  - {type: prompt, prompt: cape}
  - {type: note}
""")
    r.engine.go("host")
    assert r.state("1")["state"] == "running" and r.state("1")["remaining"] == 5
    r.clock.advance(4.99)
    assert r.actions.fired == []
    r.clock.advance(0.01)
    assert r.actions.fired == [(5.0, "2")] and r.engine.standby == "3"


def test_a_failing_cue_errors_with_its_reason_and_the_show_goes_on(rig):
    r = rig("""
  - {type: osc, target: lights, address: /go, continue: auto_follow}
  - {type: prompt, prompt: cape}
""")
    fired = r.engine.go("host")
    assert fired == {"cue": "1", "state": "error", "error": "no OSC here"}
    assert r.actions.fired == [(0.0, "2")]


GROUPS = """
  - type: group
    mode: {mode}
    cues:
      - {{type: prompt, prompt: cape, pre_wait: 1}}
      - {{type: wait, seconds: 2}}
      - {{type: display, display: main, scene: wall}}
      - {{type: osc, target: lights, address: /x}}
  - {{type: note}}
"""


def test_parallel_group_fires_children_together_and_ends_with_the_last(rig):
    r = rig(GROUPS.format(mode="parallel"))
    r.engine.go("host")
    assert r.actions.fired == [(0.0, "1.3")]
    assert r.states()["1"] == "running" and r.states()["1.2"] == "running"
    r.clock.advance(1)
    assert r.actions.fired == [(0.0, "1.3"), (1.0, "1.1")] and r.states()["1"] == "running"
    r.clock.advance(1)
    assert r.state("1") == {**r.state("1"), "state": "error", "error": "child cue(s) 1.4 failed"}
    assert r.states()["1.4"] == "error" and r.engine.snapshot()["running"] == []


def test_sequence_group_fires_children_one_after_another(rig):
    r = rig(GROUPS.format(mode="sequence"))
    r.engine.go("host")
    assert r.actions.fired == [] and r.states()["1.1"] == "pre_wait" and r.states()["1.2"] == "ready"
    r.clock.advance(1)
    assert r.actions.fired == [(1.0, "1.1")] and r.states()["1.2"] == "running"
    r.clock.advance(2)
    assert r.actions.fired == [(1.0, "1.1"), (3.0, "1.3")] and r.states()["1"] == "error"


def test_go_while_a_group_runs_fires_the_next_cue_and_the_group_goes_on(rig):
    r = rig(GROUPS.format(mode="sequence"))
    r.engine.go("host")
    r.clock.advance(1.5)
    assert r.engine.go("host")["cue"] == "2"
    r.clock.advance(1.5)
    assert (3.0, "1.3") in r.actions.fired and r.states()["1"] == "error"


def test_stop_cancels_every_wait_and_a_stop_cue_stops_the_others(rig):
    r = rig("""
  - {type: prompt, prompt: cape, pre_wait: 5}
  - {type: wait, seconds: 10}
  - {type: stop}
""")
    r.engine.go("host")
    r.engine.go("host")
    assert r.engine.snapshot()["running"] == ["1", "2"]
    r.engine.go("host")
    assert r.states() == {"1": "stopped", "2": "stopped", "3": "done"}
    r.clock.advance(20)
    assert r.actions.fired == [], "a stopped pre-wait never fires"


def test_panic_stops_everything_and_runs_the_night_panic(rig):
    r = rig("  - {type: wait, seconds: 10}\n  - {type: prompt, prompt: cape, pre_wait: 3}\n")
    r.engine.go("host")
    r.engine.go("host")
    result = r.engine.panic("host")
    assert result["stopped"] == ["1", "2"] and r.actions.panics == 1
    r.clock.advance(10)
    assert r.actions.fired == [] and set(r.states().values()) == {"stopped"}
    assert "panic" in [row["action"] for row in r.store.query("SELECT action FROM audit")]


def test_back_and_jump_move_standby_without_firing(rig):
    r = rig(NOTES)
    assert r.engine.jump("3", "host") == "3"
    r.engine.go("host")
    assert r.engine.standby is None
    assert r.engine.back("host") == "3"
    assert r.engine.back("host") == "2"
    assert r.engine.back("host") == "1" and r.engine.back("host") == "1"
    with pytest.raises(CueError) as info:
        r.engine.jump("9", "host")
    assert info.value.code == "not_found"
    assert r.states() == {"1": "standby", "2": "ready", "3": "done"}, "only the GO fired a cue"


def test_restart_resumes_at_the_same_cue_and_marks_interrupted_cues(open_test_store, tmp_path):
    """On both backends: the playhead is in the store, and a restart finds it there."""
    r = Rig(tmp_path, "  - {type: note}\n  - {type: wait, seconds: 30}\n  - {type: note}\n", store=open_test_store())
    r.engine.go("host")
    r.engine.go("host")
    r.store.close()
    store = open_test_store()
    resumed = CueEngine(r.show, store, r.actions, lambda s: None, FakeClock())
    states = {c["id"]: c for c in resumed.snapshot()["cues"]}
    assert resumed.standby == "3" and states["1"]["state"] == "done"
    assert states["2"]["state"] == "stopped" and "restart" in states["2"]["error"]


def test_snapshots_stream_every_change(rig):
    r = rig("  - {type: prompt, prompt: cape, pre_wait: 1}\n  - {type: note}\n")
    r.engine.go("host")
    r.clock.advance(1)
    states = [next(c["state"] for c in s["cues"] if c["id"] == "1") for s in r.snapshots]
    assert states == ["pre_wait", "done"]
