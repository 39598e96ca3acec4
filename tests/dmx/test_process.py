"""DMX out's own process, from the server's side (stage/dmx/process.py): a child that dies is started again, at
once after a long run and later each time it keeps dying, and its nodes say why meanwhile. The child here is a
real Python process that reads its config and then fails as a broken DMX out would."""

from __future__ import annotations

import sys

import pytest

from stage.dmx import process
from stage.dmx.process import DmxProcess
from stage.show.dmx import DmxSection

SECTION = DmxSection.model_validate({
    "nodes": [{"name": "node", "protocol": "sacn", "address": "127.0.0.1", "universes": [1]}],
    "fixtures": [{"name": "par", "type": "dimmer", "universe": 1, "address": 1}]})
# Reads the config and the levels, says why it fails (as stage/dmx/child.py does), exits 1.
FAILING = ("import json, sys; sys.stdin.readline(); sys.stdin.readline(); "
           "print(json.dumps({'log': 'DMX out failed: no such OFL file', 'level': 40}), flush=True); sys.exit(1)")


class Levels:
    def snapshot(self):
        return {"levels": {"version": 1, "fixtures": {}}, "at": 0.0, "grand_master": 100}


def run(monkeypatch, stable_seconds: float, restarts: int) -> tuple[list[float], list[dict], DmxProcess]:
    monkeypatch.setattr(process, "STABLE_SECONDS", stable_seconds)
    pauses: list[float] = []
    statuses: list[dict] = []

    def sleep(seconds: float) -> None:
        if seconds == process.READ_POLL:
            return
        pauses.append(seconds)
        if len(pauses) == restarts:
            out.close()

    out = DmxProcess(SECTION, process.Path("."), source=Levels(), cid=bytes(16), default_source_name="test",
                     spawn=lambda fn: fn(), sleep=sleep, on_status=statuses.append,
                     command=(sys.executable, "-c", FAILING))
    out.start()  # spawn runs the keeper here: it returns once close() ran
    return pauses, statuses, out


def test_a_child_that_keeps_dying_waits_longer_each_time(monkeypatch):
    pauses, statuses, out = run(monkeypatch, stable_seconds=3600, restarts=5)
    assert pauses == [0.2, 1, 2, 5, 5]
    assert out.stats()["restarts"] == 5
    node = statuses[-1]["node"]
    assert node["status"] == "restarting"
    assert node["error"] == "DMX out stopped (DMX out failed: no such OFL file); starting it again"


def test_a_child_that_ran_a_while_is_started_again_at_once(monkeypatch):
    pauses, _, _ = run(monkeypatch, stable_seconds=0, restarts=3)
    assert pauses == [0.2, 0.2, 0.2]


def test_close_before_start_is_harmless():
    out = DmxProcess(SECTION, process.Path("."), source=Levels(), cid=bytes(16), default_source_name="test",
                     spawn=lambda fn: pytest.fail("nothing starts"), sleep=lambda s: None)
    out.close()
    out.start()  # closed: a start after it starts nothing
