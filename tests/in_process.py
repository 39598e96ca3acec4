"""The in-process tier: the app as ``create_app`` builds it, served by Flask's and Flask-SocketIO's
test clients, with no port, no subprocess and nothing started (``start_serving`` is never called).

Handlers run synchronously inside ``emit`` (Flask-SocketIO's test client turns ``async_handlers`` off),
so an ack is the return value. What the server sends later from a background task (the phones' feed
batch, the counters) runs on gevent's hub, which this process does not monkey-patch: ``Console.wait_for``
lets the hub run while it waits for the event. The subprocess tier (``tests/stage_process.py``)
stays for what needs a real server: browsers, agents, OSC peers, restarts, the transport.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gevent
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from flask_socketio.test_client import SocketIOTestClient
from socketio import packet

from stage.server import create_app
from stage.settings import Settings
from tests.waiting import wait_until

PASSPHRASES = {"host": "host-pass", "moderator": "mod-pass", "crew": "crew-pass"}


@contextmanager
def built_app(show: Path, data_dir: Path, **settings_: Any) -> Iterator[tuple[Flask, SocketIO]]:
    """The app of ``show`` over ``data_dir``, as `stage serve` builds it, closed afterwards. gevent mode
    (the default server's), nothing served: no OSC-in port, no local rigs, OSC out and DMX out logged only, DMX
    out in this process (``settings_`` override any of these)."""
    settings = Settings(**{"show_path": show, "data_dir": data_dir, "bind": "127.0.0.1", "async_mode": "gevent",
                           "host_password": PASSPHRASES["host"], "moderator_password": PASSPHRASES["moderator"],
                           "crew_password": PASSPHRASES["crew"], "osc_port": None, "osc_dry_run": True,
                           "local_rigs": False, "dmx_dry_run": True, "dmx_output": "inline", **settings_})
    app, socketio = create_app(settings)
    app.config["TESTING"] = True
    try:
        yield app, socketio
    finally:
        app.extensions["stage.night"].close()  # batched reports still due read no closed store
        osc, _ = app.extensions["stage.osc"]
        osc.close()
        if app.extensions.get("stage.dmx") is not None:
            app.extensions["stage.dmx"].close()
        app.extensions["stage.store"].close()


def logged_in(app: Flask, role: str) -> FlaskClient:
    """A Flask test client holding ``role``'s console session cookie (the real login form)."""
    client = app.test_client()
    answer = client.post(f"/login/{role}", data={"passphrase": PASSPHRASES[role]})
    assert answer.status_code == 302, (role, answer.status_code)
    return client


class RefusalKeepingClient(SocketIOTestClient):
    """Flask-SocketIO's test client, also keeping what a refused connect was told: its own keeps only
    that the namespace is not connected and drops the CONNECT_ERROR's data (the message and data of
    the namespace's ``ConnectionRefusedError``, what a python-socketio client reports)."""

    refusal: Any = None

    def connect(self, namespace=None, query_string=None, headers=None, auth=None) -> None:  # type: ignore[no-untyped-def]
        deliver = self.socketio.server._send_packet  # the test client's own delivery, set in its __init__

        def keep(eio_sid: str, pkt: packet.Packet) -> None:
            if eio_sid == self.eio_sid and pkt.packet_type == packet.CONNECT_ERROR:
                self.refusal = pkt.data
            deliver(eio_sid, pkt)

        self.socketio.server._send_packet = keep
        try:
            super().connect(namespace, query_string, headers, auth)
        finally:
            self.socketio.server._send_packet = deliver


def client_at(app: Flask, address: str) -> FlaskClient:
    """A Flask test client whose requests (and sockets) come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


class Console:
    """One Socket.IO test client on one namespace: ``call`` returns the ack, ``wait_for`` the next
    matching event (running gevent's hub meanwhile), ``events`` every event received so far by name."""

    def __init__(self, app: Flask, socketio: SocketIO, namespace: str, *, client: FlaskClient | None = None,
                 auth: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        self.namespace = namespace
        self.client = client or app.test_client()
        self.sio = RefusalKeepingClient(app, socketio, namespace=namespace, flask_test_client=self.client,
                                        auth=auth, headers=headers)
        self._received: list[dict[str, Any]] = []

    @property
    def connected(self) -> bool:
        return self.sio.is_connected(self.namespace)

    @property
    def refusal(self) -> Any:
        """What a refused connect was told (``{"message": ..., "data": ...}``), None if it was not refused."""
        return self.sio.refusal

    def call(self, event: str, data: Any = None) -> Any:
        """The ack of ``event`` (no data: sent without an argument, as python-socketio's client does)."""
        args = () if data is None else (data,)
        return self.sio.emit(event, *args, namespace=self.namespace, callback=True)

    def _collect(self) -> None:
        if self.connected:
            self._received += self.sio.get_received(self.namespace)

    def events(self, name: str) -> list[Any]:
        """The data of every ``name`` event received so far (each event's first argument)."""
        self._collect()
        return [event["args"][0] if event["args"] else None for event in self._received if event["name"] == name]

    def drain(self, name: str) -> list[Any]:
        """Like ``events``, and forget them: the next ``wait_for`` sees only newer ones."""
        got = self.events(name)
        self._received = [event for event in self._received if event["name"] != name]
        return got

    def wait_for(self, name: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 10) -> Any:
        """The first ``name`` event matching ``predicate`` (it is consumed), letting background tasks run."""
        def matching() -> list[Any]:
            self._collect()
            for index, event in enumerate(self._received):
                data = event["args"][0] if event["args"] else None
                if event["name"] == name and predicate(data):
                    del self._received[index]
                    return [data]  # a list: truthy even when the event's data is not
            return []

        # gevent.sleep between polls: the hub runs the server's background tasks (feed batches, counters)
        return wait_until(matching, timeout, f"a {name!r} event on {self.namespace}", sleep=gevent.sleep)[0]

    def close(self) -> None:
        if self.connected:
            self.sio.disconnect(self.namespace)


class Consoles:
    """Socket.IO test clients per role on one in-process app: phones, consoles, displays."""

    def __init__(self, app: Flask, socketio: SocketIO) -> None:
        self.app, self.socketio = app, socketio
        self.opened: list[Console] = []

    def open(self, namespace: str, **kwargs: Any) -> Console:
        console = Console(self.app, self.socketio, namespace, **kwargs)
        self.opened.append(console)
        return console

    def phone(self, name: str = "Ada", device_key: str | None = None, address: str = "127.0.0.1") -> Console:
        """A phone on /audience that has joined as ``name`` (``address``: the phone's IP, per-address limits)."""
        phone = self.open("/audience", client=client_at(self.app, address))
        phone.device_key = device_key or uuid.uuid4().hex  # type: ignore[attr-defined]
        ack = phone.call("join", {"device_key": phone.device_key, "name": name})  # type: ignore[attr-defined]
        assert ack["ok"], ack
        phone.participant = ack["participant"]  # type: ignore[attr-defined]
        phone.joined = ack  # type: ignore[attr-defined]
        return phone

    def refusal(self, namespace: str, *, role: str | None = None, client: FlaskClient | None = None,
                **kwargs: Any) -> Any:
        """What a connection to ``namespace`` is told when it is refused (failing the test if it connects):
        as ``role``'s logged-in console, or with ``client``'s cookies and address, or as a stranger."""
        attempt = Console(self.app, self.socketio, namespace, client=logged_in(self.app, role) if role else client,
                          **kwargs)
        assert not attempt.connected, f"{role or 'the client'} connected to {namespace}"
        assert attempt.refusal is not None, "refused without a CONNECT_ERROR"
        return attempt.refusal

    def console(self, role: str, namespace: str) -> Console:
        return self.open(namespace, client=logged_in(self.app, role))

    def host(self) -> Console:
        return self.console("host", "/host")

    def moderation(self, role: str = "moderator") -> Console:
        return self.console(role, "/moderation")

    def crew(self) -> Console:
        return self.console("crew", "/crew")

    def display(self, name: str = "main") -> Console:
        night = self.app.extensions["stage.night"]
        return self.open("/display", auth={"name": name, "key": night.display_key(name)})

    def close_all(self) -> None:
        for console in self.opened:
            console.close()
