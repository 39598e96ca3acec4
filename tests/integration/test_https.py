"""`stage serve --tls-cert --tls-key [--http-port]`: HTTPS and WSS on the port, a 308 to HTTPS on the plain
one, the local capture agent over loopback TLS, and one clear line for a certificate that will not load."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import socketio

from tests.conftest import demo_show
from tests.stage_process import REPO, StageProcess, free_port
from tests.tls import make_certs
from tests.waiting import wait_until


@pytest.fixture
def certs(tmp_path):
    return make_certs(tmp_path / "certs")


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_https_wss_and_the_redirect(tmp_path, certs, mode):
    http_port = free_port()
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", async_mode=mode, tls=certs,
                          extra_args=("--http-port", str(http_port))).start()
    client = None
    try:
        health = requests.get(f"{server.url}/healthz", verify=str(certs.ca), timeout=5)
        assert health.ok and health.json()["status"] == "ok"
        assert any("https://" in line for line in server.stdout_lines), "the banner's join URL is https"
        # Not trusted without the CA: the certificate really is the test CA's.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{server.url}/healthz", timeout=5)

        # A phone over WSS, verifying the certificate with the test CA.
        session = requests.Session()
        session.verify = str(certs.ca)
        client = socketio.Client(reconnection=False, http_session=session)
        client.connect(server.url, namespaces=["/audience"], transports=["websocket"], wait_timeout=10)
        ack = client.call("join", {"device_key": "k" * 32, "name": "Ada"}, namespace="/audience", timeout=10)
        assert ack["ok"] and ack["participant"]["name"] == "Ada"

        # Plain HTTP: a 308 to the same host, path and query over HTTPS; a POST keeps its method.
        for host in ("127.0.0.1", "localhost"):
            moved = requests.get(f"http://{host}:{http_port}/display/main?key=abc", allow_redirects=False, timeout=5)
            assert moved.status_code == 308
            assert moved.headers["Location"] == f"https://{host}:{server.port}/display/main?key=abc"
        followed = requests.get(f"http://127.0.0.1:{http_port}/healthz", verify=str(certs.ca), timeout=5)
        assert followed.ok and followed.url == f"{server.url}/healthz"
        posted = requests.post(f"http://127.0.0.1:{http_port}/api/uploads", data={"a": "b"}, allow_redirects=False,
                               timeout=5)
        assert posted.status_code == 308

        # Plain HTTP on the HTTPS port fails its handshake: one log line, no traceback on stderr.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
    finally:
        if client is not None:
            client.disconnect()
        code = server.stop()
    assert code == 0, server.stderr_path.read_text()
    if mode == "gevent":  # eventlet's hub prints each failed handshake's traceback itself (docs/https.md)
        assert "Traceback" not in server.stderr_path.read_text()
        assert "TLS handshake from 127.0.0.1 failed" in server.log_text()


def test_without_http_port_there_is_no_plain_listener(tmp_path, certs):
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", tls=certs).start()
    try:
        assert requests.get(f"{server.url}/healthz", verify=str(certs.ca), timeout=5).ok
        assert "redirects" not in server.log_text()
    finally:
        server.stop()


def test_the_local_agent_connects_over_loopback_tls(tmp_path, certs):
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", tls=certs, local_rigs=True).start()
    try:
        # The agent is told https://127.0.0.1:port and, on loopback only, does not check the certificate.
        wait_until(lambda: requests.get(f"{server.url}/healthz", verify=str(certs.ca), timeout=5)
                   .json()["rigs"]["stage"] == "online", 60, what="the local rig to come online over TLS", every=0.1)
    finally:
        code = server.stop()
    assert code == 0
    assert not server.leftovers


def _serve_fails(tmp_path, cert, key) -> str:
    args = [sys.executable, "-m", "stage", "serve", str(demo_show(tmp_path)), "--data", str(tmp_path / "data"),
            "--bind", "127.0.0.1", "--port", str(free_port()), "--no-local-rigs", "--tls-cert", str(cert),
            "--tls-key", str(key), "--host-password", "h", "--moderator-password", "m", "--crew-password", "c"]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("stage: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_certificate_that_will_not_load_is_one_line_and_exit_1(tmp_path, certs):
    other = make_certs(tmp_path / "other")
    assert "does not belong to the certificate" in _serve_fails(tmp_path, certs.cert, other.key)
    missing = tmp_path / "nope.pem"
    assert f"cannot read the TLS certificate {missing}" in _serve_fails(tmp_path, missing, certs.key)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert "the certificate is not a PEM certificate" in _serve_fails(tmp_path, garbage, certs.key)
    assert "the key is not a PEM private key" in _serve_fails(tmp_path, certs.cert, garbage)


def test_workers_refuse_tls_they_cannot_terminate(tmp_path, certs):
    from click.testing import CliRunner

    from stage.cli import cli

    result = CliRunner().invoke(cli, ["serve", str(demo_show(tmp_path)), "--data", str(tmp_path / "data"),
                                      "--workers", "2", "--redis", "redis://127.0.0.1:1/0",
                                      "--database", "postgresql://stage@127.0.0.1:1/night",
                                      "--tls-cert", str(certs.cert), "--tls-key", str(certs.key)], obj={})
    assert result.exit_code == 1 and "put Caddy or nginx in front" in result.output
