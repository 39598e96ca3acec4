"""The real parts of issue 17's cluster, before Stage uses them: Redis (tests/redis_server.py) and HAProxy
(tests/haproxy.py) in front of two small HTTP servers that stand in for `stage serve` processes."""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import redis
import requests

from tests.haproxy import HAProxy, config_for
from tests.redis_server import RedisServer
from tests.stage_process import free_port
from tests.waiting import wait_until


class Backend:
    """One stand-in process: ``/media/who`` (a phone's path) and ``/host`` (a console's) answer its name,
    ``/healthz/live`` 200, ``/healthz/conductor`` ``conductor_status`` (changed by the test); it counts the
    health checks it was sent."""

    def __init__(self, name: str, conductor_status: int) -> None:
        self.name, self.conductor_status, self.checks = name, conductor_status, Counter()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/healthz/"):
                    backend.checks[path] += 1
                status = {"/media/who": 200, "/host": 200, "/healthz/live": 200,
                          "/healthz/conductor": backend.conductor_status}
                body = backend.name.encode()
                self.send_response(status.get(path, 404))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # HAProxy checks twice a second: keep the output readable
                pass

        # Port 0: the kernel picks a free port and we hold it from then on (no probe-then-bind race).
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # A short poll interval: shutdown() waits for the serving loop to look up (0.5 s by default).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()
    assert not server.running


@pytest.fixture
def backends() -> Iterator[dict[str, Backend]]:
    started = {"w1": Backend("w1", 200), "w2": Backend("w2", 503)}
    yield started
    for backend in started.values():
        backend.stop()


@pytest.fixture
def proxy(backends: dict[str, Backend]) -> Iterator[HAProxy]:
    started = HAProxy.in_front_of({name: backend.port for name, backend in backends.items()})
    yield started
    started.stop()
    assert not started.running


def who(url: str, **options) -> str | None:
    response = requests.get(f"{url}/media/who", timeout=5, **options)
    return response.text if response.status_code == 200 else None


def conductor_is(proxy: HAProxy, name: str, times: int = 6) -> bool:
    """``times`` conductor requests in a row reach ``name``: with two servers up, the conductor backend's
    round robin would alternate, so a run of one name means HAProxy has marked the other one down."""
    return all(who(proxy.url, params={"conductor": "1"}) == name for _ in range(times))


# --- Redis ---------------------------------------------------------------------------------------------

def test_redis_answers_ping_on_loopback_and_keeps_nothing(redis_server: RedisServer) -> None:
    client = redis_server.client(decode_responses=True)
    assert client.ping()
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert client.config_get("bind") == {"bind": "127.0.0.1"}
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    client.close()


def test_a_publish_reaches_a_subscriber_on_another_connection(redis_server: RedisServer) -> None:
    listener, publisher = redis_server.client(), redis_server.client()
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("stage:test")
    # PUBLISH counts the subscribers that got it: wait until Redis has registered ours.
    wait_until(lambda: publisher.pubsub_numsub("stage:test") == [(b"stage:test", 1)], what="the subscription")
    assert publisher.publish("stage:test", "hello") == 1
    message = wait_until(lambda: pubsub.get_message(timeout=0.1), what="the published message")
    assert (message["channel"], message["data"]) == (b"stage:test", b"hello")
    pubsub.close()
    listener.close()
    publisher.close()


def test_kill_cuts_clients_and_restart_comes_back_on_the_same_port_empty(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.set("stage:soft", "state")
    port, pid = redis_server.port, redis_server.proc.pid
    redis_server.kill()
    assert not redis_server.running
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_server.restart()
    assert redis_server.port == port and redis_server.proc.pid != pid
    assert client.ping()
    assert client.get("stage:soft") is None  # no persistence: soft state must rebuild itself
    client.close()


def test_stop_ends_its_own_process_and_removes_its_directory() -> None:
    server = RedisServer().start()
    pid, directory = server.proc.pid, server.dir
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not directory.exists()


def test_start_moves_to_a_new_port_when_its_port_is_taken() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = RedisServer(port=taken).start()
        try:
            assert server.port != taken
            assert "Address already in use" in server.log()
            with server.client() as client:
                assert client.ping()
        finally:
            server.stop()


# --- HAProxy -------------------------------------------------------------------------------------------

def test_a_config_haproxy_refuses_is_reported_with_its_words() -> None:
    port = free_port()
    broken = config_for(port, {"w1": free_port()}).replace("balance leastconn", "balance no_such_algorithm")
    proxy = HAProxy(broken, port)
    with pytest.raises(RuntimeError, match=r"haproxy\.cfg:\d+\] : balance only supports"):
        proxy.start()
    assert proxy.proc is None


def test_conductor_requests_always_reach_the_conductor(proxy: HAProxy, backends: dict[str, Backend]) -> None:
    wait_until(lambda: backends["w2"].checks["/healthz/conductor"] >= 2, what="HAProxy's conductor checks")
    wait_until(lambda: conductor_is(proxy, "w1"), what="w2 marked down in the conductor backend")
    assert [who(proxy.url, params={"conductor": "1"}) for _ in range(20)] == ["w1"] * 20
    # A console's page (and its logins, rehearsal and take uploads) goes there too, with no query needed.
    assert {requests.get(f"{proxy.url}/host", timeout=5).text for _ in range(6)} == {"w1"}


def test_the_cookie_keeps_a_client_on_one_server(proxy: HAProxy, backends: dict[str, Backend]) -> None:
    # Both are live: without a cookie, leastconn takes them in turn (round robin among equal loads).
    assert {who(proxy.url) for _ in range(6)} == {"w1", "w2"}
    session = requests.Session()
    first = session.get(f"{proxy.url}/media/who", timeout=5)
    assert session.cookies.get("STAGESRV") == first.text
    assert "httponly" in first.headers["Set-Cookie"].lower()
    assert [session.get(f"{proxy.url}/media/who", timeout=5).text for _ in range(10)] == [first.text] * 10
    other = "w2" if first.text == "w1" else "w1"
    assert who(proxy.url, cookies={"STAGESRV": other}) == other
    session.close()


def test_the_conductor_route_moves_when_health_changes(proxy: HAProxy, backends: dict[str, Backend]) -> None:
    wait_until(lambda: conductor_is(proxy, "w1"), what="w1 as the only conductor")
    backends["w1"].conductor_status, backends["w2"].conductor_status = 503, 200
    # inter 500ms, fall 2, rise 1: about a second; the deadline leaves room for a loaded machine.
    wait_until(lambda: conductor_is(proxy, "w2"), timeout=10, what="the conductor route to move to w2")
    assert [who(proxy.url, params={"conductor": "1"}) for _ in range(10)] == ["w2"] * 10
