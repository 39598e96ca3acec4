"""`stage serve` as a crew meets it: what it prints, what it refuses, how it stops."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from tests.stage_process import DEMO_SHOW, REPO, StageProcess, free_port


def test_serve_prints_join_qr_console_logins_displays_and_data_dir(tmp_path):
    server = StageProcess(DEMO_SHOW, tmp_path / "data", passwords=False,
                          extra_args=("--public-url", "http://stage.venue.lan:9000")).start()
    try:
        out = "\n".join(server.stdout_lines)
        assert "Phones join at   http://stage.venue.lan:9000/" in out
        assert "█" in out, "a QR code is drawn in the terminal"
        host_pass = re.search(r"/host\s+passphrase: (\S+)", out).group(1)
        crew_pass = re.search(r"/crew\s+passphrase: (\S+)", out).group(1)
        assert re.fullmatch(r"[a-z]{4}-[a-z]{4}-[a-z]{4}", host_pass) and host_pass != crew_pass
        assert "http://stage.venue.lan:9000/display/main?key=" in out
        assert str((tmp_path / "data").resolve()) in out
        login = requests.post(f"{server.url}/login/host", data={"passphrase": host_pass}, allow_redirects=False)
        assert login.status_code == 302
        qr = requests.get(f"{server.url}/qr/join.svg")
        assert qr.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in qr.content
    finally:
        assert server.stop() == 0
    assert "Stage stopped" in server.log_text()


def test_serve_refuses_a_broken_show_and_starts_nothing(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEMO_SHOW.read_text().replace("type: prompt", "type: prompto", 1))
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "stage", "serve", str(broken), "--data", str(tmp_path / "data"),
                             "--bind", "127.0.0.1", "--port", str(port)], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert re.search(rf"{re.escape(str(broken))}:\d+:11: cues\[1\]\.type: unknown cue type 'prompto'", result.stderr)
    assert not (tmp_path / "data").exists()


def test_check_command_in_a_real_process():
    ok = subprocess.run([sys.executable, "-m", "stage", "check", str(DEMO_SHOW)], cwd=REPO, capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and "ok" in ok.stdout
