"""The house's phone count over several processes, on a real Redis (stage/cluster/headcount.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stage.cluster import soft_state_client
from stage.cluster.headcount import STALE_MS, ClusterHeadcount
from tests.waiting import wait_until


@dataclass
class Sockets:
    """A process's own phones, as realtime.presence.Presence counts them."""

    phones: int = 0

    def displays_online(self, name: str) -> int:
        return 1 if name == "main" else 0


@pytest.fixture
def client(redis_server):
    return soft_state_client(redis_server.url)


def test_each_process_counts_the_whole_house_and_its_own_joins_at_once(client):
    one, two = Sockets(3), Sockets(5)
    first = ClusterHeadcount(one, client, "stage:t", "w1")
    second = ClusterHeadcount(two, client, "stage:t", "w2")
    first.beat(), second.beat(), first.beat()
    assert (first.phones, second.phones) == (8, 8)
    one.phones += 2  # joins on the first process: its own count moves before any beat
    assert (first.phones, second.phones) == (10, 8)
    second.beat()
    assert second.phones == 8  # the others' counts are as of their last beat
    first.beat(), second.beat()
    assert second.phones == 10
    assert first.displays_online("main") == 1  # displays stay the process's own


def test_a_process_that_stops_beating_leaves_the_count(client):
    survivor, dead = ClusterHeadcount(Sockets(1), client, "stage:t", "w1"), ClusterHeadcount(Sockets(7), client,
                                                                                             "stage:t", "w2")
    dead.beat(), survivor.beat()
    assert survivor.phones == 8

    def beaten() -> bool:
        survivor.beat()
        return survivor.phones == 1

    wait_until(beaten, STALE_MS / 1000 + 3, "the dead process's phones to leave the count")
    assert client.hkeys("stage:t:phones") == [b"w1"]


def test_a_process_that_stops_serving_leaves_at_once(client):
    leaving, staying = ClusterHeadcount(Sockets(4), client, "stage:t", "w1"), ClusterHeadcount(Sockets(2), client,
                                                                                               "stage:t", "w2")
    leaving.beat()
    leaving.leave()
    staying.beat()
    assert staying.phones == 2


def test_nights_on_one_redis_do_not_count_each_other(client):
    one, other = ClusterHeadcount(Sockets(4), client, "stage:a", "w1"), ClusterHeadcount(Sockets(9), client,
                                                                                         "stage:b", "w1")
    one.beat(), other.beat(), one.beat()
    assert (one.phones, other.phones) == (4, 9)


def test_redis_away_counts_this_process_alone_and_back_counts_the_house(redis_server, client, caplog):
    mine, theirs = ClusterHeadcount(Sockets(2), client, "stage:t", "w1"), ClusterHeadcount(Sockets(6), client,
                                                                                           "stage:t", "w2")
    theirs.beat(), mine.beat()
    assert mine.phones == 8
    redis_server.kill()
    mine.beat()
    assert mine.phones == 2
    assert sum("Redis is unreachable" in r.message for r in caplog.records) == 1
    mine.beat()  # logged once, not per beat
    assert sum("Redis is unreachable" in r.message for r in caplog.records) == 1
    redis_server.restart()
    theirs.beat(), mine.beat()  # the script is loaded again into the new Redis
    assert mine.phones == 8
