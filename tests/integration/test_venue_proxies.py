"""Issue 19: Stage behind the venue's nginx or Caddy, with the very configurations docs/https.md gives (its
``nginx`` and ``caddyfile`` blocks, with this test's ports and a test CA's certificate): HTTPS and WSS through the
proxy, plain HTTP redirected, uploads streamed, and ``--behind-proxy 1`` counting phones by the address the
proxy saw, never by one they claim."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from stage.resources import REPO
from tests.integration.test_venue_network import capped_show
from tests.owned_process import OwnedProcess
from tests.peers import Peer
from tests.stage_process import StageProcess, free_port
from tests.tls import make_certs
from tests.waiting import wait_until

def documented_block(language: str) -> str:
    text = (REPO / "docs" / "https.md").read_text()
    return re.search(rf"```{language}\n(.*?)```", text, re.S).group(1)


def nginx_conf(tmp: Path, https_port: int, http_port: int, stage_port: int, cert: Path, key: Path) -> str:
    block = documented_block("nginx")
    block = block.replace("listen 443 ", f"listen 127.0.0.1:{https_port} ").replace("listen 80;",
                                                                               f"listen 127.0.0.1:{http_port};")
    block = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", block)
    block = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", block)
    block = block.replace("proxy_pass http://127.0.0.1:5000;", f"proxy_pass http://127.0.0.1:{stage_port};")
    assert f"proxy_pass http://127.0.0.1:{stage_port};" in block and f"127.0.0.1:{https_port} ssl" in block
    return (f"daemon off;\nmaster_process off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
            f"events {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n"
            f"  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;\n"
            f"  fastcgi_temp_path {tmp}/f; uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;\n{block}\n}}\n")


def caddyfile(tmp: Path, https_port: int, http_port: int, stage_port: int, cert: Path, key: Path) -> str:
    block = documented_block("caddyfile")
    block = block.replace("stage.example.org {", f"https://127.0.0.1:{https_port} {{\n\ttls {cert} {key}", 1)
    block = block.replace("reverse_proxy 127.0.0.1:5000 {", f"reverse_proxy 127.0.0.1:{stage_port} {{")
    assert f"reverse_proxy 127.0.0.1:{stage_port}" in block
    # Caddy's own redirect listens on http_port; no admin API, no ACME, nothing stored outside tmp.
    return (f"{{\n\tadmin off\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tskip_install_trust\n"
            f"\tstorage file_system {tmp}/caddy\n}}\n{block}")


class Caddy(OwnedProcess):
    def __init__(self, tmp: Path, conf: str) -> None:
        self.tmp = tmp
        (tmp / "Caddyfile").write_text(conf)
        self.env = {**os.environ, "HOME": str(tmp), "XDG_DATA_HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp)}

    def start(self) -> "Caddy":
        command = ["caddy", "validate", "--adapter", "caddyfile", "--config", str(self.tmp / "Caddyfile")]
        checked = subprocess.run(command, capture_output=True, text=True, env=self.env)
        assert checked.returncode == 0, checked.stderr  # the documented config is valid for this Caddy
        with open(self.tmp / "error.log", "w") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(["caddy", "run", "--adapter", "caddyfile", "--config",
                                          str(self.tmp / "Caddyfile")], stdout=log, stderr=log, env=self.env)
        return self


class Nginx(OwnedProcess):
    def __init__(self, tmp: Path, conf: str) -> None:
        self.tmp = tmp
        (tmp / "nginx.conf").write_text(conf)

    def start(self) -> "Nginx":
        checked = subprocess.run(["nginx", "-t", "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr  # the documented config is valid for this nginx
        self.proc = subprocess.Popen(["nginx", "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")],
                                     stderr=subprocess.PIPE)
        return self


PROXIES = {"nginx": (Nginx, nginx_conf), "caddy": (Caddy, caddyfile)}


@pytest.mark.parametrize("kind", sorted(PROXIES))
def test_stage_behind_the_documented_proxy(tmp_path: Path, kind: str) -> None:
    certs = make_certs(tmp_path / "certs")
    server = StageProcess(capped_show(tmp_path), tmp_path / "data", extra_args=("--behind-proxy", "1")).start()
    https_port, http_port = free_port(), free_port()
    proxy_class, config = PROXIES[kind]
    proxy = proxy_class(tmp_path, config(tmp_path, https_port, http_port, server.port, certs.cert, certs.key)).start()
    base = f"https://127.0.0.1:{https_port}"
    opened: list[Peer] = []
    try:
        def answers() -> bool:
            assert proxy.running, (tmp_path / "error.log").read_text()
            try:
                return requests.get(f"{base}/healthz", verify=str(certs.ca), timeout=2).ok
            except requests.ConnectionError:
                return False

        wait_until(answers, timeout=15, what=f"{kind} to answer over HTTPS")
        page = requests.get(f"{base}/", verify=str(certs.ca), timeout=5)
        assert page.status_code == 200 and "/vendor/socket.io.min.js" in page.text
        moved = requests.get(f"http://127.0.0.1:{http_port}/?from=door", allow_redirects=False, timeout=5)
        assert moved.status_code == 308 and moved.headers["Location"].startswith("https://127.0.0.1")
        assert moved.headers["Location"].endswith("/?from=door")

        # Phones over WSS through the proxy. Each claims another address: the edge overwrites the header with the
        # address it saw (127.0.0.1 for all of them), so the per-address cap still counts them as one.
        trusting = requests.Session()
        trusting.verify = str(certs.ca)
        acks, keys = [], [uuid.uuid4().hex for _ in range(3)]
        for k, key in enumerate(keys):
            phone = Peer(base, "/audience", headers={"X-Forwarded-For": f"10.9.9.{k}"}, http_session=trusting)
            opened.append(phone)
            acks.append(phone.call("join", {"device_key": key, "name": f"Ana {k}"}))
        assert [a["ok"] for a in acks] == [True, True, False] and acks[2]["error"]["code"] == "rate_limited"
        assert opened[0].client.transport() == "websocket"

        # A multipart upload streamed through the proxy reaches Stage, which reads its form (the phone's key, the
        # prompt: none is open before GO) and answers in its own words.
        answer = trusting.post(f"{base}/api/uploads", timeout=30, verify=str(certs.ca), data={
            "id": str(uuid.uuid4()), "kind": "drawing", "device_key": keys[0]},
            files={"file": ("d.png", b"\x89PNG\r\n\x1a\n not really", "image/png")})
        assert answer.headers["Content-Type"] == "application/json", answer.text  # Stage's answer, not nginx's
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "prompt_closed", answer.text
    finally:
        for peer in opened:
            peer.close()
        proxy.end()
        server.stop()
