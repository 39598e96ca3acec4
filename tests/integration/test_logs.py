"""The log file of ``stage serve`` (stage/logs.py): the chosen level, and rotation so it never fills the disk."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import demo_show
from tests.peers import Peer
from tests.stage_process import StageProcess
from tests.waiting import wait_until


def join(server: StageProcess, name: str) -> None:
    phone = Peer(server.url, "/audience")
    try:
        assert phone.call("join", {"device_key": uuid.uuid4().hex, "name": name})["ok"]
    finally:
        phone.close()


@pytest.mark.parametrize("level", ["info", "warning"])
def test_the_log_level_chooses_what_the_file_gets(tmp_path: Path, level: str) -> None:
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", extra_args=("--log-level", level)).start()
    try:
        join(server, "Lena")
        log = server.data_dir / "stage.log"
        if level == "info":
            wait_until(lambda: "'Lena'" in log.read_text(), what="the join's line")
        else:
            server.stop()  # everything it had to say is written by then
            text = log.read_text()
            assert " INFO " not in text and "'Lena'" not in text
    finally:
        server.stop()


def test_the_log_file_rotates_and_keeps_the_newest_lines(tmp_path: Path) -> None:
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", extra_env={"STAGE_LOG_ROTATE_BYTES": "4000"}).start()
    try:
        for k in range(40):
            join(server, f"Phone {k:02d}")
        log = server.data_dir / "stage.log"
        wait_until(lambda: "'Phone 39'" in log.read_text(), what="the last join's line in stage.log")
        rotated = sorted(server.data_dir.glob("stage.log.*"))
        assert rotated and len(rotated) <= 5, rotated  # five kept besides the current one; older ones go
        assert all(path.stat().st_size <= 4000 for path in [log, *rotated])
        assert "'Phone 00'" not in log.read_text()  # the oldest lines moved out of the current file
    finally:
        server.stop()
