"""Fixtures shaped like Flask's flaskr example, in two tiers.

In-process (``tests/in_process.py``): ``app`` (``create_app`` over a ``tmp_path`` data directory, the
demo show, nothing started), ``client`` (Flask's test client), ``runner`` (the ``stage`` CLI through
click's runner) and ``consoles`` (Flask-SocketIO test clients per role: ``consoles.phone("Ana")``,
``.host()``, ``.moderation()``, ``.crew()``, ``.display("main")``; console roles log in through the
real form, and the socket carries that cookie). Namespace and web tests use these.

Stores on both backends (``tests/postgres.py``): ``database`` is the ``--database`` of one test, once
on SQLite (None: the file in the data directory) and once on a fresh database in a real PostgreSQL this
process started (``postgres``, one cluster per test process); ``store`` is the store it opens, and
``open_test_store`` opens it again (a restart).

Subprocess (``tests/stage_process.py``): ``stage`` (a real `stage serve` on a free loopback port) and
``peers`` (python-socketio clients per role) for what needs a real server: browsers, agents, OSC peers,
restarts and the transport.

Chromium (``tests/chromium.py``): ``pages`` (phones and desktops in their own contexts, every console error
collected) and ``shot`` (a screenshot under test-artifacts/), over one browser per test process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.chromium import browser, pages, playwright, shot  # noqa: F401  (fixtures for every directory)
from tests.in_process import Consoles, built_app
from tests.peers import Peer
from tests.postgres import PostgresCluster
from tests.redis_server import RedisServer
from tests.lighting.osc_peers import free_udp_port
from tests.stage_process import DEMO_SHOW, StageProcess


def demo_show(tmp_path: Path, lights_port: int | None = None, osc_in: str = "", dmx_port: int | None = None) -> Path:
    """The demo night with its lighting target and its DMX node on free loopback ports (tests never use fixed
    ports: a test's sACN receiver must hear only its own server)."""
    text = DEMO_SHOW.read_text().replace("    port: 8000", f"    port: {lights_port or free_udp_port()}")
    node = "address: 127.0.0.1, universes: [1]}"
    assert node in text, "the demo's DMX node moved: update tests/conftest.py"
    text = text.replace(node, f"address: 127.0.0.1, port: {dmx_port or free_udp_port()}, universes: [1]}}")
    if osc_in:
        text = text.replace("\nrigs:", f"\nosc_in:\n{osc_in}\n\nrigs:", 1)
    path = tmp_path / "tiny-stories.yaml"
    path.write_text(text)
    return path


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A real PostgreSQL, started for this test process and stopped by its own pid at the end."""
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real Redis for one test (a crash or restart in one test must not reach the next), stopped by its pid."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path: Path) -> Iterator[str | None]:
    """``--database`` for this test: None (SQLite in the data directory), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    cluster = request.getfixturevalue("postgres")
    url = cluster.fresh_database()
    yield url
    cluster.drop(url)


@pytest.fixture
def open_test_store(database, tmp_path: Path):
    """Opens this test's store (again, for a restart); every store it opened is closed at the end."""
    from stage.records.store import open_store

    opened = []

    def open_again(data_dir: Path | None = None):
        store = open_store(database, data_dir or tmp_path / "data")
        opened.append(store)
        return store

    yield open_again
    for store in opened:
        try:
            store.close()
        except Exception:  # closed by the test already
            pass


@pytest.fixture
def store(open_test_store):
    return open_test_store()


@pytest.fixture
def app(tmp_path: Path):
    """The demo night's app, in this process: no port, no subprocess, nothing started."""
    with built_app(demo_show(tmp_path), tmp_path / "data") as (app, _socketio):
        yield app


@pytest.fixture
def socketio(app):
    return app.extensions["stage.socketio"]


@pytest.fixture
def client(app):
    return app.test_client()


class StageRunner:
    """The ``stage`` command line in this process (click's runner), flaskr's ``runner`` for a click CLI."""

    def __init__(self, app) -> None:
        self.app = app
        self._runner = CliRunner()

    def invoke(self, *args: str) -> Result:
        from stage.cli import cli

        return self._runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def runner(app) -> StageRunner:
    return StageRunner(app)


@pytest.fixture
def consoles(app, socketio) -> Iterator[Consoles]:
    factory = Consoles(app, socketio)
    yield factory
    factory.close_all()


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[StageProcess]:
    server = StageProcess(demo_show(tmp_path), tmp_path / "data").start()
    yield server
    server.stop()


@pytest.fixture
def peers(stage: StageProcess) -> Iterator["PeerFactory"]:
    factory = PeerFactory(stage)
    yield factory
    stage.stop()  # first: python-socketio clients then see the close at once instead of waiting on it
    factory.close_all()


class PeerFactory:
    def __init__(self, stage: StageProcess) -> None:
        self.stage = stage
        self.opened: list[Peer] = []

    def _open(self, namespace: str, **kwargs) -> Peer:
        peer = Peer(self.stage.url, namespace, **kwargs)
        self.opened.append(peer)
        return peer

    def phone(self, name: str = "Ada", device_key: str | None = None) -> Peer:
        phone = self._open("/audience")
        phone.device_key = device_key or uuid.uuid4().hex
        ack = phone.call("join", {"device_key": phone.device_key, "name": name})
        assert ack["ok"], ack
        phone.participant = ack["participant"]
        phone.joined = ack
        return phone

    def host(self) -> Peer:
        return self._open("/host", headers={"Cookie": self.stage.cookie_header("host")})

    def moderation(self, role: str = "moderator") -> Peer:
        return self._open("/moderation", headers={"Cookie": self.stage.cookie_header(role)})

    def crew(self) -> Peer:
        return self._open("/crew", headers={"Cookie": self.stage.cookie_header("crew")})

    def display(self, name: str = "main") -> Peer:
        return self._open("/display", auth={"name": name, "key": self.stage.display_keys[name]})

    def close_all(self) -> None:
        for peer in self.opened:
            try:
                peer.close()
            except Exception:
                pass


CONSOLE_SHOW = Path(__file__).resolve().parent / "shows" / "console.yaml"


@pytest.fixture
def night(tmp_path: Path) -> Iterator[tuple[StageProcess, PeerFactory]]:
    """A server on the console test show (timed cues, auto-approve, a word list, a panic scene)."""
    server = StageProcess(CONSOLE_SHOW, tmp_path / "data").start()
    peers = PeerFactory(server)
    yield server, peers
    server.stop()
    peers.close_all()
