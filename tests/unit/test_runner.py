"""The cue runner against a real store: GO fires the standby cue, errors are states, state persists."""

from __future__ import annotations

from pathlib import Path

import pytest

from stage.errors import CueError, NotFound
from stage.records.store import Store
from stage.show.loader import parse_show
from stage.show.runner import Runner

SHOW = parse_show("""
title: Runner test
displays: [{name: main}]
prompts: [{id: cape, text: A cape}]
osc_targets: [{name: lights, host: 127.0.0.1, port: 9000}]
cues:
  - {type: prompt, prompt: cape}
  - type: group
    cues:
      - {type: display, display: main, scene: wall}
      - {type: osc, target: lights, address: /go}
  - {type: note, text: Thank the volunteers}
""")


class Actions:
    """Records what the runner asked for, and fails like the real boards do for an unknown display."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def prompt(self, cue, actor):
        self.calls.append(("prompt", cue.prompt))

    def display(self, cue, actor):
        if cue.display != "main":
            raise NotFound("no display")
        self.calls.append(("display", cue.scene))


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "stage.db")
    yield store
    store.close()


def test_go_fires_in_order_and_reports_each_state(store):
    actions, snapshots = Actions(), []
    runner = Runner(SHOW, store, actions, snapshots.append)
    assert runner.standby == "1"
    assert runner.go("host:t") == {"cue": "1", "state": "done"}
    fired = runner.go("host:t")
    assert fired["cue"] == "2" and fired["state"] == "error" and "2.2" in fired["error"]
    assert actions.calls == [("prompt", "cape"), ("display", "wall")], "a failing child does not stop its siblings"
    states = {c["id"]: c for c in snapshots[-1]["cues"]}
    assert states["2.1"]["state"] == "done" and "OSC" in states["2.2"]["error"] and states["3"]["state"] == "standby"
    assert [c["depth"] for c in snapshots[-1]["cues"]] == [0, 0, 1, 1, 0]
    assert runner.go("host:t")["state"] == "done"
    assert runner.standby is None
    with pytest.raises(CueError, match="ended"):
        runner.go("host:t")
    gos = store.query("SELECT subject FROM audit WHERE action = 'go' ORDER BY seq")
    assert [r["subject"] for r in gos] == ["1", "2", "3"]


def test_playhead_and_states_survive_a_restart(store):
    Runner(SHOW, store, Actions(), lambda s: None).go("host:t")
    resumed = Runner(SHOW, store, Actions(), lambda s: None)
    assert resumed.standby == "2"
    assert {c["id"]: c["state"] for c in resumed.snapshot()["cues"]}["1"] == "done"
