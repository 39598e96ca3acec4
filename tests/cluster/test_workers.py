"""``stage serve --workers 2``: two serve processes and HAProxy in front, started and kept up by the supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from tests.cluster.workers import conductor_of, live, sessions_on, start_workers, worker_pid, worker_url
from tests.conftest import demo_show
from tests.peers import Peer, go
from tests.stage_process import REPO, StageProcess
from tests.waiting import wait_until


@pytest.fixture
def workers(tmp_path, postgres, redis_server) -> Iterator[StageProcess]:
    url = postgres.fresh_database()
    server = start_workers(tmp_path / "data", url, redis_server.url)
    yield server
    server.stop()
    postgres.drop(url)


def test_consoles_reach_the_conductor_and_phones_spread_over_both(workers):
    crew = workers.login("crew").cookies  # logged in through the proxy; the session works on every process
    conductor = conductor_of(workers)
    assert conductor is not None
    host = Peer(f"{workers.url}?conductor=1", "/host", headers={"Cookie": workers.cookie_header("host")})
    phones = [Peer(workers.url, "/audience") for _ in range(6)]
    try:
        for n, phone in enumerate(phones):
            assert phone.call("join", {"device_key": uuid.uuid4().hex, "name": f"Phone {n}"})["ok"]
        assert sessions_on(workers, conductor, crew) >= 1 and sessions_on(workers, 3 - conductor, crew) >= 1
        go(host)
        go(host)  # the cape prompt opens: phones on both processes hear it
        for phone in phones:
            phone.wait_for("prompt", lambda data: data["prompt"] and data["prompt"]["id"] == "cape")
    finally:
        for peer in (host, *phones):
            peer.close()


def test_a_killed_conductor_is_replaced_and_the_consoles_find_the_new_one(workers):
    before = conductor_of(workers)
    host = Peer(f"{workers.url}?conductor=1", "/host", headers={"Cookie": workers.cookie_header("host")})
    go(host)
    host.close()
    killed = worker_pid(workers, before)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    wait_until(lambda: conductor_of(workers) == 3 - before, 5, "the other worker to take the lease")
    # Through the proxy, the console lands on the new conductor (a refusal would raise not_conductor).
    again = wait_until(lambda: _connects(workers), 5, "a host console through the proxy")
    try:
        assert again.wait_for("cues")["standby"] == "2"
    finally:
        again.close()
    wait_until(lambda: worker_pid(workers, before) not in (None, killed), 10, "the supervisor to start it again")
    wait_until(lambda: live(worker_url(workers, before)), 20, "the restarted worker to serve")
    assert conductor_of(workers) == 3 - before  # it came back as a follower


def _connects(server: StageProcess) -> Peer | None:
    try:
        return Peer(f"{server.url}?conductor=1", "/host", headers={"Cookie": server.cookie_header("host")})
    except Exception:
        return None


def test_print_proxy_config_prints_a_config_haproxy_accepts(tmp_path):
    printed = subprocess.run([sys.executable, "-m", "stage", "serve", str(demo_show(tmp_path)), "--data",
                              str(tmp_path / "data"), "--workers", "3", "--port", "9100", "--redis",
                              "redis://127.0.0.1:1/0", "--database", "postgresql://stage@127.0.0.1:1/x",
                              "--print-proxy-config"], cwd=REPO, capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in os.environ.items() if not k.startswith("STAGE_")})
    assert printed.returncode == 0, printed.stderr
    config = printed.stdout.split("# HAProxy:")[0]
    for port in (9101, 9102, 9103):
        assert f"127.0.0.1:{port} check" in config
    assert "--worker-name w3" in printed.stdout
    # Secrets are for the workers' environment: not on a command line (ps shows it), not in what is printed.
    assert "passphrase" not in printed.stdout
    assert "postgresql://" not in printed.stdout and "redis://" not in printed.stdout
    (tmp_path / "printed.cfg").write_text(config)
    checked = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "printed.cfg")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_workers_without_redis_are_refused_with_what_to_add(tmp_path):
    refused = subprocess.run([sys.executable, "-m", "stage", "serve", str(demo_show(tmp_path)), "--data",
                              str(tmp_path / "data"), "--workers", "2"], cwd=REPO, capture_output=True, text=True,
                             timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("STAGE_")})
    assert refused.returncode == 1
    assert "--redis" in refused.stderr and "--database postgresql://" in refused.stderr


def test_a_killed_followers_phones_come_back_through_the_proxy_and_nothing_is_stored_twice(workers):
    follower = 3 - conductor_of(workers)
    host = Peer(f"{workers.url}?conductor=1", "/host", headers={"Cookie": workers.cookie_header("host")})
    moderator = Peer(f"{workers.url}?conductor=1", "/moderation", headers={"Cookie": workers.cookie_header("host")})
    go(host)
    go(host)  # the cape prompt
    keys = [uuid.uuid4().hex for _ in range(8)]
    phones = [Peer(workers.url, "/audience") for _ in keys]
    sent: dict[str, str] = {}
    try:
        for key, phone in zip(keys, phones):
            assert phone.call("join", {"device_key": key, "name": "Ada"})["ok"]
            sent[key] = str(uuid.uuid4())
            assert phone.call("submit_story", {"id": sent[key], "prompt": "cape", "text": "Sent once."})["ok"]
        on_follower = sessions_on(workers, follower, workers.login("crew").cookies)  # phones only: consoles conduct
        assert on_follower > 0, "leastconn put none of the eight phones on the follower"
        os.kill(worker_pid(workers, follower), signal.SIGKILL)
        wait_until(lambda: sum(not phone.client.connected for phone in phones) == on_follower, 5,
                   "the follower's phones to see their connection go")
        dropped = [key for key, phone in zip(keys, phones) if not phone.client.connected]
        for key in dropped:  # each one's page reconnects through the proxy, re-joins and resends its outbox
            again = wait_until(lambda: _rejoined(workers, key), 5, "a dropped phone back through the proxy")
            phones.append(again)
            ack = again.call("submit_story", {"id": sent[key], "prompt": "cape", "text": "Sent once."})
            assert ack["ok"] and ack["record"]["id"] == sent[key]  # the resend finds the stored record
        queue = Peer(f"{workers.url}?conductor=1", "/moderation", headers={"Cookie": workers.cookie_header("host")})
        phones.append(queue)
        pending = [r["id"] for r in queue.wait_for("queue")["records"]]
        assert sorted(pending) == sorted(sent.values())  # every acknowledged story, each exactly once
    finally:
        for peer in (host, moderator, *phones):
            peer.close()


def _rejoined(server: StageProcess, key: str) -> Peer | None:
    try:
        phone = Peer(server.url, "/audience")
    except Exception:
        return None
    return phone if phone.call("join", {"device_key": key, "name": "Ada"})["ok"] else None
