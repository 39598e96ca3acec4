"""``stage rehearse`` as a subprocess against a real ``stage serve``: figures, marking, cleanup, faults."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from tests.peers import go
from tests.stage_process import HOST_PASSWORD, REPO, StageProcess, free_port

CAPPED_SHOW = Path(__file__).resolve().parent.parent / "shows" / "rehearsal.yaml"


def rehearse(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stage", "rehearse", "--url", url, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def start_rehearse(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stage", "rehearse", "--url", url, *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_health(url: str, key: str, count: int, timeout: float = 60) -> None:
    """Until /healthz's ``key`` reaches ``count``: a deadline for a condition, generous for a loaded machine."""
    deadline = time.monotonic() + timeout
    while requests.get(f"{url}/healthz", timeout=5).json()[key] < count:
        assert time.monotonic() < deadline, f"{key} stayed below {count} for {timeout}s"
        time.sleep(0.2)


def wait_for_phones(url: str, count: int, timeout: float = 60) -> None:
    wait_for_health(url, "phones", count, timeout)


def stop_rehearse(run: subprocess.Popen) -> None:
    """Stops, by its pid, a rehearsal a failed test left running (its load workers end with it)."""
    if run.poll() is None:
        run.kill()
        run.communicate(timeout=10)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def test_fifty_phones_figures_marking_and_cleanup(stage, peers, tmp_path):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)  # the demo opens its story prompt on cue 2
    real = peers.phone("Real Ada")
    story = str(uuid.uuid4())
    assert real.call("submit_story", {"id": story, "prompt": "cape", "text": "A real cape."})["ok"]
    assert moderator.call("moderate", {"id": story, "decision": "approve"})["ok"]

    figures_path = tmp_path / "figures.json"
    done = rehearse(stage.url, "--phones", "50", "--processes", "2", "--submit-rate", "10", "--duration", "8",
                    "--ramp", "2",
                    "--recommend-share", "1", "--host-password", HOST_PASSWORD, "--json", str(figures_path))
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["phones_connected"] == 50 and figures["lost"] == 0 and figures["dropped"] == 0
    assert figures["submits"] >= 60 and figures["acks"] == figures["submits"]
    for key in ("ack_ms", "update_ms"):
        assert all(figures[key][p] is not None and figures[key][p] > 0 for p in ("p50", "p95", "p99")), figures[key]
        assert figures[key]["p50"] <= figures[key]["p95"] <= figures[key]["p99"]
    assert figures["approvals"] > 0 and figures["updates"] > 0
    # Coalesced: at most about one feed update a second per phone, although every approval and
    # recommendation changed the feed (one message each would be several a second).
    changes = figures["approvals"] + figures["recommends"]
    assert changes > 8 + 2, figures
    assert figures["feed_messages"] <= 50 * (8 + 2) < 50 * changes
    assert f"holds 50 phones: ack p99 {figures['ack_ms']['p99']:g} ms" in done.stdout

    db = stage.data_dir / "stage.db"
    assert rows(db, "SELECT COUNT(*) FROM participants WHERE simulated = 1") == [(50,)]
    assert rows(db, "SELECT simulated FROM participants WHERE name = 'Real Ada'") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM records r JOIN participants p ON p.id = r.participant_id "
                    "WHERE p.simulated = 1")[0][0] == figures["acks"]
    assert figures["recommends"] > 0
    assert rows(db, "SELECT COUNT(*) FROM recommendations")[0][0] > 0

    # A second, smaller rehearsal with --cleanup removes both rehearsals' phones and all they made.
    done = rehearse(stage.url, "--phones", "5", "--duration", "3", "--cleanup", "--host-password", HOST_PASSWORD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Cleaned up:" in done.stderr and "55 participants" in done.stderr
    stage.stop()
    assert rows(db, "SELECT COUNT(*) FROM participants WHERE simulated = 1") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM participants") == [(1,)]
    assert rows(db, "SELECT id, status FROM records") == [(story, "approved")]
    assert rows(db, "SELECT COUNT(*) FROM recommendations") == [(0,)]
    audit = rows(db, "SELECT actor, detail FROM audit WHERE action = 'rehearsal_cleanup'")
    assert len(audit) == 1 and json.loads(audit[0][1])["participants"] == 55


def test_cleanup_needs_a_host_login(stage):
    assert requests.post(f"{stage.url}/api/rehearsal/cleanup", timeout=5).status_code == 403
    session = stage.login("moderator")
    assert session.post(f"{stage.url}/api/rehearsal/cleanup", timeout=5).status_code == 403


def test_a_url_that_is_down_is_a_clear_error(tmp_path):
    done = rehearse(f"http://127.0.0.1:{free_port()}", "--phones", "5", "--duration", "2", timeout=60)
    assert done.returncode == 2
    assert "cannot reach a Stage server at http://127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr


def test_phones_past_the_show_cap_are_reported(tmp_path):
    server = StageProcess(CAPPED_SHOW, tmp_path / "data").start()
    try:
        figures_path = tmp_path / "figures.json"
        done = rehearse(server.url, "--phones", "25", "--duration", "4", "--ramp", "1", "--json", str(figures_path))
    finally:
        server.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["phones_connected"] == 10 and figures["refused"] == {"full": 15}
    assert "15 phones refused (15 full)" in done.stdout
    assert any("the show is full (10 phones)" in note for note in figures["notes"])
    assert any("no prompt is open" in note for note in figures["notes"]), "nobody pressed GO: said, not hidden"
    assert "Traceback" not in done.stderr


def test_phones_dropped_mid_run_are_counted(tmp_path):
    server = StageProcess(CAPPED_SHOW, tmp_path / "data").start()
    figures_path = tmp_path / "figures.json"
    run = start_rehearse(server.url, "--phones", "8", "--duration", "10", "--ramp", "1", "--submit-rate", "4",
                         "--json", str(figures_path))
    try:
        wait_for_phones(server.url, 8)
        server.stop()
        out, err = run.communicate(timeout=60)
    finally:
        server.stop()
        stop_rehearse(run)
    assert run.returncode == 1, out + err
    figures = json.loads(figures_path.read_text())
    assert figures["phones_connected"] == 8 and figures["dropped"] == 8 and figures["phones_at_end"] == 0
    assert "8 phones dropped mid-run" in out
    assert "Traceback" not in err


def test_ctrl_c_prints_what_it_has_and_cleans_up(stage, peers, tmp_path):
    host = peers.host()
    go(host), go(host)
    figures_path = tmp_path / "figures.json"
    run = start_rehearse(stage.url, "--phones", "20", "--duration", "120", "--ramp", "1", "--submit-rate", "5",
                         "--cleanup", "--host-password", HOST_PASSWORD, "--json", str(figures_path))
    try:
        wait_for_phones(stage.url, 20)
        wait_for_health(stage.url, "pending", 1)  # stories are going out (sent faster than approved)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        stop_rehearse(run)
    assert run.returncode == 130, out + err
    assert out.startswith("INTERRUPTED: holds 20 phones")
    figures = json.loads(figures_path.read_text())
    assert figures["interrupted"] is True and figures["submits"] > 0 and figures["acks"] == figures["submits"]
    assert figures["cleanup"]["ok"] is True
    left = stage.login("host").get(f"{stage.url}/api/rehearsal/status", timeout=5).json()["left"]
    assert left == {"participants": 0, "records": 0, "recommendations": 0, "volunteers": 0}
    assert "Traceback" not in err
