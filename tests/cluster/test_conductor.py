"""Which process runs the show, and when it stops (stage/cluster/conductor.py), on a scripted lease."""

from __future__ import annotations

import pytest

from stage.cluster.conductor import Conductor


class Stop(Exception):
    """Ends a loop that would run for the whole night."""


class ScriptedLease:
    def __init__(self, held: bool = False, takes: list[bool] | None = None, reachable: list[bool] | None = None,
                 alive: list[bool] | None = None) -> None:
        self.held = held
        self._takes, self._reachable, self._alive = takes or [], reachable or [], alive or []
        self.reachable = True

    def try_take(self) -> bool:
        if not self._takes:
            raise Stop  # the script is over
        taken = self._takes.pop(0)
        self.reachable = self._reachable.pop(0) if self._reachable else True
        self.held = taken
        return taken

    def still_held(self) -> bool:
        if not self._alive:
            raise Stop
        alive = self._alive.pop(0)
        self.held = alive
        return alive


class Harness:
    def __init__(self, lease: ScriptedLease, sleeps: int = 10) -> None:
        self.took: list[bool] = []
        self.lost = 0
        self.tasks: list = []
        self._sleeps = sleeps
        self.now = 0.0  # the clock moves only when a loop sleeps
        self.conductor = Conductor(lease, "w1", self.took.append, self._lose, self._spawn, self._sleep,
                                   clock=lambda: self.now)

    def _lose(self) -> None:
        self.lost += 1

    def _spawn(self, fn, *args) -> None:
        self.tasks.append((fn, args))

    def _sleep(self, seconds: float) -> None:
        self._sleeps -= 1
        if self._sleeps < 0:
            raise Stop
        self.now += seconds

    def run_tasks(self) -> None:
        while self.tasks:
            fn, args = self.tasks.pop(0)
            try:
                fn(*args)
            except Stop:
                pass


def watched(lease: ScriptedLease, sleeps: int) -> Harness:
    """A conductor started on ``lease``, its loops run until the script or the sleeps run out."""
    harness = Harness(lease, sleeps)
    harness.conductor.start()
    harness.run_tasks()
    return harness


def test_the_holder_at_start_conducts_at_once_and_watches_its_lease():
    harness = Harness(ScriptedLease(held=True, alive=[True, True]), sleeps=2)
    harness.conductor.start()
    assert harness.conductor.conducting and harness.took == [True]
    harness.run_tasks()  # the watch: two good checks, then the test ends it
    assert harness.lost == 0 and harness.conductor.conducting


def test_a_follower_polls_until_the_lease_is_free_then_takes_the_show_over():
    harness = Harness(ScriptedLease(takes=[False, False, True], alive=[True]), sleeps=4)
    harness.conductor.start()
    assert not harness.conductor.conducting and harness.took == []
    harness.run_tasks()
    assert harness.conductor.conducting and harness.took == [False]  # False: reload what the last one left


def test_a_conductor_whose_lease_went_to_another_stops():
    harness = watched(ScriptedLease(held=True, alive=[False], takes=[False]), sleeps=5)
    assert harness.lost == 1 and not harness.conductor.conducting


def test_a_broken_session_with_nobody_else_on_the_lease_takes_it_back():
    harness = watched(ScriptedLease(held=True, alive=[False, True], takes=[True]), sleeps=2)
    assert harness.lost == 0 and harness.conductor.conducting


def test_postgresql_away_stops_this_process_before_postgresql_could_give_the_lease_away():
    lease = ScriptedLease(held=True, alive=[False], takes=[False, False], reachable=[False, False])
    harness = watched(lease, sleeps=40)  # asked twice, unanswered: the deadline loop finds GRACE_S passed
    assert harness.lost == 1 and not harness.conductor.conducting
    assert harness.now < 4.0  # before PostgreSQL frees a vanished holder's lock (about 4 s)


def test_a_connection_back_within_the_grace_keeps_the_show_here():
    lease = ScriptedLease(held=True, alive=[False, True, True], takes=[False, True], reachable=[False, True])
    harness = watched(lease, sleeps=6)
    assert harness.lost == 0 and harness.conductor.conducting


def test_postgresql_back_with_the_lease_taken_by_another_stops_this_one():
    lease = ScriptedLease(held=True, alive=[False], takes=[False, False], reachable=[False, True])
    harness = watched(lease, sleeps=10)
    assert lease._takes == [] and harness.lost == 1 and not harness.conductor.conducting


def test_the_show_is_loaded_before_anyone_is_let_in():
    seen = []
    lease = ScriptedLease(takes=[True])
    harness = Harness(lease, sleeps=1)
    harness.conductor = Conductor(lease, "w1", lambda first: seen.append(harness.conductor.conducting),
                                  lambda: None, harness._spawn, harness._sleep)
    harness.conductor.start()
    harness.run_tasks()
    assert seen == [False] and harness.conductor.conducting  # taking over first, conducting (consoles) after
