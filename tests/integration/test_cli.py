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


def test_a_second_server_on_the_same_store_is_refused(tmp_path, database):
    first = StageProcess(DEMO_SHOW, tmp_path / "data", database=database).start()
    try:
        second_data = tmp_path / ("other-data" if database else "data")  # PostgreSQL: the database is what is shared
        result = subprocess.run([sys.executable, "-m", "stage", "serve", str(DEMO_SHOW), "--data", str(second_data),
                                 "--bind", "127.0.0.1", "--port", str(free_port()),
                                 *(["--database", database] if database else [])], cwd=REPO, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 1 and "another Stage is already using" in result.stderr
        assert requests.get(f"{first.url}/healthz").json()["status"] == "ok"
    finally:
        first.stop()


def test_a_changed_passphrase_logs_out_the_old_console_sessions(tmp_path):
    first = StageProcess(DEMO_SHOW, tmp_path / "data").start()
    cookie = first.cookie_header("host")
    first.stop()
    second = StageProcess(DEMO_SHOW, tmp_path / "data", passwords=False,
                          extra_args=("--host-password", "a-new-passphrase")).start()
    try:
        page = requests.get(f"{second.url}/host", headers={"Cookie": cookie}, allow_redirects=False)
        assert page.status_code == 302 and page.headers["Location"].endswith("/login/host")
    finally:
        second.stop()


def test_a_bad_port_in_the_environment_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "stage", "serve", str(DEMO_SHOW), "--data", str(tmp_path / "d")],
                            cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "STAGE_PORT": "eighty"})
    assert result.returncode == 1 and "the port must be a number, not 'eighty'" in result.stderr


def test_serve_warns_when_the_open_files_limit_holds_fewer_phones_than_a_house(tmp_path):
    """Every phone is one open socket: on a machine whose limit is 1,024 descriptors the operator is told
    how many phones fit before doors, not by phones failing to connect at 9 pm."""
    import resource

    ample = min(8192, resource.getrlimit(resource.RLIMIT_NOFILE)[1])  # a limit may be lowered, never raised
    assert ample >= 2200, f"this machine's hard limit {ample} is below a house of 2,000 phones"
    small = StageProcess(DEMO_SHOW, tmp_path / "small", open_files=1024).start()
    small.stop()
    roomy = StageProcess(DEMO_SHOW, tmp_path / "roomy", open_files=ample).start()
    roomy.stop()
    assert "this process can hold about 824 phones (open files limit 1024), fewer than a house of 2000" \
        in small.stderr_path.read_text()
    assert f"room for about {ample - 200} phones (open files limit {ample})" in roomy.log_text()
    assert "can hold about" not in roomy.stderr_path.read_text()


def test_page_requests_are_not_logged_with_their_display_keys(tmp_path):
    """The websocket server's own request log would write every URL, display keys included, to the
    operator's terminal and stage.log; Stage keeps it to warnings."""
    server = StageProcess(DEMO_SHOW, tmp_path / "data").start()
    try:
        url = server.display_url("main")
        assert requests.get(url, timeout=10).status_code == 200
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
    key = url.split("key=")[1]
    assert key and key not in server.log_text() and key not in server.stderr_path.read_text()
    assert "GET /healthz" not in server.log_text()


def test_serve_on_a_postgresql_that_is_not_there_is_one_line_and_starts_nothing(tmp_path):
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "stage", "serve", str(DEMO_SHOW), "--data", str(tmp_path / "data"),
                             "--bind", "127.0.0.1", "--port", str(port),
                             "--database", f"postgresql://stage:secret@127.0.0.1:{free_port()}/night"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stage: cannot reach PostgreSQL at postgresql://stage@127.0.0.1:")
    assert "secret" not in result.stderr + result.stdout
    assert "Phones join at" not in result.stdout, "no banner: nothing was started"


def test_serve_and_doctor_name_the_store_a_night_uses(tmp_path, database):
    server = StageProcess(DEMO_SHOW, tmp_path / "data", database=database).start()
    try:
        out = "\n".join(server.stdout_lines)
        expected = "postgresql postgresql://stage@127.0.0.1:" if database else f"sqlite {tmp_path / 'data'}"
        assert f"Store            {expected}" in out
    finally:
        assert server.stop() == 0
    command = [sys.executable, "-m", "stage", "doctor", "--data", str(tmp_path / "data"),
               *(["--database", database] if database else [])]
    doctor = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert doctor.returncode in (0, 1), doctor.stderr  # 1: no camera or microphone on this machine
    store_line = next(line for line in doctor.stdout.splitlines() if "schema" in line)
    assert ("postgresql" if database else "sqlite") in store_line
    assert "schema 5 (current)" in store_line and "yes" in store_line


def test_doctor_says_a_postgresql_is_unreachable(tmp_path):
    doctor = subprocess.run([sys.executable, "-m", "stage", "doctor", "--database",
                             f"postgresql://stage@127.0.0.1:{free_port()}/night"], cwd=REPO, capture_output=True,
                            text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert doctor.returncode == 1
    assert re.search(r"postgresql .* no .*cannot reach PostgreSQL", doctor.stdout), doctor.stdout
