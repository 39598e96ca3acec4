"""The message queue's own states on a real Redis (stage/realtime/queue.py): up only when heard, deaf found
out, a refusing Redis that does not flap. A python-socketio server in threading mode runs its loops."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import socketio

from stage.realtime import queue as queue_module
from stage.realtime.queue import StageRedisManager
from tests.waiting import wait_until


@pytest.fixture
def queue(redis_server, monkeypatch) -> Iterator[StageRedisManager]:
    # Quicker beats, the same rule: silence for three beats is deafness (a pause of twice that surely is).
    monkeypatch.setattr(queue_module, "BEAT_S", 0.5)
    monkeypatch.setattr(queue_module, "SILENCE_S", 1.5)
    manager = StageRedisManager(redis_server.url, "stage:test")
    manager.missed = []
    manager.on_missed = lambda: manager.missed.append(time.monotonic())
    socketio.Server(async_mode="threading", client_manager=manager)
    manager.start()
    yield manager
    # The loops are daemon threads of this test process; their Redis is stopped by its fixture.


def test_up_once_it_heard_its_own_beat_and_nothing_to_resync_at_a_first_start(queue):
    wait_until(lambda: queue.state == "up", 10, "the queue to hear its beat")
    assert queue.missed == []  # a first start missed nothing


def test_a_deaf_listener_is_found_out_and_its_clients_resync_when_it_hears_again(queue, redis_server):
    wait_until(lambda: queue.state == "up", 10, "the queue up")
    pauser = redis_server.client()
    pauser.execute_command("CLIENT", "PAUSE", "5000", "ALL")  # Redis answers nobody: a half-open connection
    wait_until(lambda: queue.state == "down", 10, "the queue to notice it hears nothing")
    wait_until(lambda: queue.state == "up", 20, "the queue up again after the pause")
    wait_until(lambda: len(queue.missed) == 1, 5, "one resync for what the deaf listener missed")


def test_a_redis_that_refuses_the_login_keeps_the_queue_down_without_flapping(queue, redis_server, caplog):
    wait_until(lambda: queue.state == "up", 10, "the queue up")
    admin = redis_server.client()
    admin.config_set("requirepass", "not-in-the-url")
    admin = redis_server.client(password="not-in-the-url")
    admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # the listener must log in again, and cannot
    admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    wait_until(lambda: queue.state == "down", 10, "the queue down")
    attempts = admin.info("stats")["total_connections_received"]
    caplog.clear()
    caplog.set_level(logging.INFO, logger="stage.realtime.queue")
    # Retries of the listener (one a second) and of the beat: each one refused, none may count as up, and
    # every change of state is a log line (StageRedisManager._update), so none may say "is up".
    wait_until(lambda: admin.info("stats")["total_connections_received"] - attempts >= 4, 15, "four refused logins")
    assert [r.message for r in caplog.records if " is up " in r.message] == [] and queue.missed == []
    assert queue.state == "down"
    admin.config_set("requirepass", "")
    wait_until(lambda: queue.state == "up", 15, "the queue up once Redis lets it in")
    assert any(" is up " in r.message for r in caplog.records)  # the line the check above looked for
