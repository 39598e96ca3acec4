"""Issue 19: Stage behind the venue's nginx, with the very configuration docs/https.md gives (its ``nginx`` block,
with this test's ports and a test CA's certificate): HTTPS and WSS through the proxy, plain HTTP redirected,
uploads streamed, and ``--behind-proxy 1`` counting phones by the address nginx saw, never by one they claim."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import requests

from stage.resources import REPO
from tests.integration.test_venue_network import capped_show
from tests.owned_process import OwnedProcess
from tests.peers import Peer
from tests.stage_process import StageProcess, free_port
from tests.tls import make_certs
from tests.waiting import wait_until

def documented_block() -> str:
    text = (REPO / "docs" / "https.md").read_text()
    return re.search(r"```nginx\n(.*?)```", text, re.S).group(1)


def nginx_conf(tmp: Path, https_port: int, http_port: int, stage_port: int, cert: Path, key: Path) -> str:
    block = documented_block()
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


def test_stage_behind_the_documented_nginx(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    server = StageProcess(capped_show(tmp_path), tmp_path / "data", extra_args=("--behind-proxy", "1")).start()
    https_port, http_port = free_port(), free_port()
    proxy = Nginx(tmp_path, nginx_conf(tmp_path, https_port, http_port, server.port, certs.cert, certs.key)).start()
    base = f"https://127.0.0.1:{https_port}"
    opened: list[Peer] = []
    try:
        def answers() -> bool:
            assert proxy.running, (tmp_path / "error.log").read_text()
            try:
                return requests.get(f"{base}/healthz", verify=str(certs.ca), timeout=2).ok
            except requests.ConnectionError:
                return False

        wait_until(answers, timeout=10, what="nginx to answer over HTTPS")
        page = requests.get(f"{base}/", verify=str(certs.ca), timeout=5)
        assert page.status_code == 200 and "/vendor/socket.io.min.js" in page.text
        moved = requests.get(f"http://127.0.0.1:{http_port}/?from=door", allow_redirects=False, timeout=5)
        assert moved.status_code == 308 and moved.headers["Location"] == "https://127.0.0.1/?from=door"

        # Phones over WSS through nginx. Each claims another address: the edge overwrites the header with the
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
