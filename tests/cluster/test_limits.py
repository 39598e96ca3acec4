"""Limits shared by a night's processes, on a real Redis (stage/cluster/limits.py)."""

from __future__ import annotations

import threading

import pytest
from limits import parse

from stage.cluster import limits as shared
from stage.cluster import soft_state_client
from stage.cluster.headcount import ClusterHeadcount
from stage.cluster.limits import SharedInFlight, SharedWindow
from stage.phone_limits import PhoneLimits
from stage.errors import RateLimited
from tests.waiting import wait_until

THREE = parse("3 per 10 seconds")


class Sockets:
    phones = 0


@pytest.fixture
def client(redis_server):
    return soft_state_client(redis_server.url)


def test_two_processes_share_one_window(client):
    one, two = SharedWindow(client, "stage:t"), SharedWindow(client, "stage:t")
    assert one.hit(THREE, "submit", "p1") and two.hit(THREE, "submit", "p1") and one.test(THREE, "submit", "p1")
    assert two.hit(THREE, "submit", "p1")
    assert not one.hit(THREE, "submit", "p1") and not two.test(THREE, "submit", "p1")
    assert two.hit(THREE, "submit", "p2")  # another phone's window
    assert SharedWindow(client, "stage:other").hit(THREE, "submit", "p1")  # another night's


def test_a_reserved_hit_given_back_frees_its_slot_on_every_process(client):
    one, two = SharedWindow(client, "stage:t"), SharedWindow(client, "stage:t")
    stamps = [one.reserve(THREE, "submit", "p1") for _ in range(3)]
    assert None not in stamps and two.reserve(THREE, "submit", "p1") is None
    one.release(THREE, stamps[0], "submit", "p1")
    assert two.reserve(THREE, "submit", "p1") is not None


def test_requests_at_once_cannot_all_pass_a_window_with_room_for_three(client):
    windows = [SharedWindow(client, "stage:t") for _ in range(4)]
    passed, start = [], threading.Barrier(12)

    def submit(window: SharedWindow) -> None:
        start.wait()
        passed.append(window.reserve(THREE, "submit", "p1") is not None)

    threads = [threading.Thread(target=submit, args=(windows[n % 4],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed.count(True) == 3


def test_clear_forgets_a_key_everywhere(client):
    one, two = SharedWindow(client, "stage:t"), SharedWindow(client, "stage:t")
    for _ in range(3):
        one.hit(THREE, "login", "addr")
    two.clear(THREE, "login", "addr")
    assert one.hit(THREE, "login", "addr")


def test_redis_away_falls_back_to_this_processs_window_and_says_so_once(redis_server, client, caplog):
    window = SharedWindow(client, "stage:t")
    redis_server.kill()
    assert [window.hit(THREE, "submit", "p1") for _ in range(4)] == [True, True, True, False]  # still limited
    stamp = window.reserve(THREE, "submit", "p2")
    window.release(THREE, stamp, "submit", "p2")
    assert sum("Redis is unreachable" in r.message for r in caplog.records) == 1


def beating(client, *procs: str) -> list[ClusterHeadcount]:
    """Processes alive in the night's beats (as stage/cluster/headcount.py writes them)."""
    beats = [ClusterHeadcount(Sockets(), client, "stage:t", proc) for proc in procs]
    for beat in beats:
        beat.beat()
    return beats


def test_slots_in_flight_are_shared_between_processes(client):
    beating(client, "w1", "w2")
    one, two = SharedInFlight(client, "stage:t", 2, "w1"), SharedInFlight(client, "stage:t", 2, "w2")
    assert one.acquire("machine:a") and two.acquire("machine:a") and not one.acquire("machine:a")
    assert one.running("machine:a") == 1
    one.release("machine:a")
    assert two.acquire("machine:a")


def test_a_killed_processs_slots_go_with_its_beats(client, monkeypatch):
    beating(client, "w1", "w2")
    dead = SharedInFlight(client, "stage:t", 1, "w2")
    assert dead.acquire("machine:b")  # and w2 is killed holding it: its beat stops
    alive = SharedInFlight(client, "stage:t", 1, "w1")
    assert not alive.acquire("machine:b")
    survivor = beating(client, "w1")[0]
    wait_until(lambda: survivor.beat() or alive.acquire("machine:b"), 6, "the dead process's slot to go")
    monkeypatch.setattr(shared, "IN_FLIGHT_TTL_MS", 300)  # the backstop: even a beating holder's slot ends
    stuck = SharedInFlight(client, "stage:t", 1, "w1")
    assert stuck.acquire("machine:d")
    wait_until(lambda: survivor.beat() or SharedInFlight(client, "stage:t", 1, "w1").acquire("machine:d"), 5,
               "the slot's deadline")


def test_a_give_back_redis_missed_is_tried_again(redis_server, client):
    beating(client, "w1")
    slots = SharedInFlight(client, "stage:t", 1, "w1")
    assert slots.acquire("machine:a")
    redis_server.kill()
    slots.release("machine:a")  # Redis away: kept
    redis_server.restart()
    beating(client, "w1")
    assert slots.acquire("machine:b")  # the next call gives the old one back first
    assert client.zcard("stage:t:slots:machine:a") == 0


def test_phone_limits_over_redis_refuse_the_seventh_story_across_processes(client):
    def process() -> PhoneLimits:
        return PhoneLimits(window=SharedWindow(client, "stage:t"),
                           in_flight=lambda cap: SharedInFlight(client, "stage:t", cap, "w1"), machine="machine:a")

    here, there = process(), process()
    for n in range(6):
        with (here if n % 2 else there).submission("p1") as slot:
            slot.created = True
    with pytest.raises(RateLimited):
        with here.submission("p1"):
            pass
    joins = parse("2 per minute")
    assert here.join(joins, "10.0.0.7") and there.join(joins, "10.0.0.7") and not here.join(joins, "10.0.0.7")
