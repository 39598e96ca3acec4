"""OSC in of a real ``stage serve`` (issue 14, findings 3, 7, 8): where it listens, what a tag flood
writes to the log, and that an unreadable GO moves nothing while a proper one still does."""

from __future__ import annotations

import logging
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import stage.server
from stage.settings import Settings
from stage.show.loader import load_show
from tests.conftest import demo_show
from tests.lighting.osc_peers import LOOPBACK, free_udp_port, osc_bytes, oscsend
from tests.waiting import wait_until
from tests.stage_process import StageProcess

FLOOD = osc_bytes("/stage/ping", "x" * 16_000)


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[StageProcess, int]]:
    """``serve --bind 127.0.0.1`` (StageProcess always binds loopback) with a show that sets no osc_in.bind;
    gevent unless the test asks for another async mode (indirect parametrisation)."""
    osc_in = free_udp_port()
    server = StageProcess(demo_show(tmp_path, None, f"  port: {osc_in}\n  allow: [127.0.0.1]"), tmp_path / "data",
                          async_mode=getattr(request, "param", "gevent"))
    server.start()
    yield server, osc_in
    server.stop()


def cue(server: StageProcess) -> str:
    return requests.get(f"{server.url}/healthz", timeout=5).json()["cue"]


def log_lines(server: StageProcess) -> int:
    return len(server.log_text().splitlines()) + len(server.stderr_path.read_text().splitlines())


def pinged(osc_in: int) -> None:
    """Datagrams are read in order: once a ping sent after them is answered, they were all handled."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(0.5)

        def answered() -> bool:
            sock.sendto(osc_bytes("/stage/ping"), (LOOPBACK, osc_in))
            try:
                return b"pong" in sock.recv(65535)
            except socket.timeout:
                return False

        wait_until(answered, what="a pong from OSC in")


def udp_listeners(pid: int) -> list[str]:
    out = subprocess.run(["ss", "-H", "-ulnp"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if f"pid={pid}," in line]


def test_an_unset_osc_in_bind_follows_serve_bind(served: tuple[StageProcess, int]) -> None:
    server, osc_in = served
    assert server.proc is not None
    assert f"127.0.0.1:{osc_in}" in udp_listeners(server.proc.pid)
    assert not [a for a in udp_listeners(server.proc.pid) if a.endswith(f":{osc_in}") and not a.startswith("127.")]
    assert re.search(rf"OSC in listening on udp 127\.0\.0\.1:{osc_in}", server.log_text())


def test_a_tag_flood_writes_a_handful_of_lines_and_go_still_works(served: tuple[StageProcess, int]) -> None:
    server, osc_in = served
    pinged(osc_in)
    before = log_lines(server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(5):
            sock.sendto(FLOOD, (LOOPBACK, osc_in))
    pinged(osc_in)
    # One refusal line, written to both the log file and stderr; python-osc wrote 16,000 per datagram.
    assert log_lines(server) - before <= 4, server.log_text()[-3000:]
    oscsend(osc_in, "/stage/go")
    wait_until(lambda: cue(server) == "2", what="GO after the flood")
    assert "Unhandled parameter type" not in server.log_text() + server.stderr_path.read_text()


@pytest.mark.parametrize("served", ["gevent", "eventlet"], indirect=True)
def test_go_with_an_unknown_type_tag_moves_nothing(served: tuple[StageProcess, int]) -> None:
    server, osc_in = served
    assert cue(server) == "1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(osc_bytes("/stage/go", "x", b"\0\0\0\1"), (LOOPBACK, osc_in))
    pinged(osc_in)
    assert cue(server) == "1"
    assert "unsupported OSC type tag 'x'" in server.log_text()
    oscsend(osc_in, "/stage/go")
    wait_until(lambda: cue(server) == "2", what="a proper GO")


@pytest.mark.parametrize(("show_bind", "server_bind", "expected", "warns"), [
    (None, "127.0.0.1", "127.0.0.1", False),
    (None, "0.0.0.0", "0.0.0.0", False),
    ("127.0.0.2", "127.0.0.1", "127.0.0.2", False),  # an explicit bind wins
    ("0.0.0.0", "127.0.0.1", "0.0.0.0", True),  # ... and says so when it is wider than the server's
])
def test_create_app_binds_osc_in_by_the_rule(show_bind: str | None, server_bind: str, expected: str, warns: bool,
                                             tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = "  port: 9\n  allow: [127.0.0.1]" + (f"\n  bind: {show_bind}" if show_bind else "")
    path = demo_show(tmp_path, None, lines)
    show = load_show(path)
    settings = Settings.resolve(path, show, {}, {"bind": server_bind, "data_dir": tmp_path / "data",
                                                 "host_password": "h", "moderator_password": "m",
                                                 "crew_password": "c"})
    """create_app builds the OSC-in remote and opens no socket (``start_serving`` does): half the cases
    resolve to 0.0.0.0, where a test must never listen. The real socket on loopback is
    test_an_unset_osc_in_bind_follows_serve_bind's."""
    with caplog.at_level(logging.WARNING, logger="stage.lighting.remote"):
        app, _ = stage.server.create_app(settings, show)
    osc, remote = app.extensions["stage.osc"]
    osc.close()
    app.extensions["stage.store"].close()
    assert remote.bind == expected and remote._sock is None  # built where the rule says, not listening
    assert ("wider than the server's" in caplog.text) is warns
