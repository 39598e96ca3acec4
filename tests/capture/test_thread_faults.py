"""Faults that used to kill the agent's worker threads: the take's encoder thread (the rig then said
``already_recording`` until restart) and the uploader thread (nothing uploaded again), plus the
server's 409 answers (``already_complete``, ``incomplete``) the uploader looped on or gave up at.

Everything here is real: a real rig with the test-pattern camera, a real grayscale frame through
PyAV, and real HTTP against the contract server; the server only gets a few extra answers that the
real ``stage serve`` gives (stage/web/takes.py) or that a proxy in front of it can give. No
monkeypatching: each fault is a real input or a real HTTP answer.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask, jsonify, request

from stage.capture.camera import Frame
from stage.capture.rig import Rig
from stage.capture.spool import SpooledTake
from stage.capture.upload import Uploader
from tests.capture.contract_server import TOKEN, ContractServer

SLATE = {"show": "Tiny Stories", "cue": "7", "story_id": "s1", "story": "The cape", "performer_id": "p1",
         "performer": "Ada", "take": 2}


# -- the encoder thread -----------------------------------------------------------------------------

def test_unexpected_encoder_error_fails_the_take_and_frees_the_rig(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="stage.capture")
    rig = Rig("test", "none", tmp_path / "spool", test_size=(320, 240)).open()
    try:
        take = rig.record(str(uuid.uuid4()), SLATE)
        end = time.monotonic() + 10
        while take.frames_out < 10 and time.monotonic() < end:
            time.sleep(0.05)
        assert take.frames_out >= 10
        # Not a mock: a grayscale frame (2-D array), as from a camera that switched to grayscale;
        # av.VideoFrame.from_ndarray(..., format="bgr24") raises ValueError on it.
        take.offer(Frame(np.zeros((240, 320), np.uint8), time.monotonic()))
        assert take.wait(20), "the take never finished: the rig would answer already_recording forever"
        assert take.failed and "ValueError" in take.reason
        assert not rig.recording
        sidecar = json.loads(take.spooled.sidecar.read_text())
        assert sidecar["state"] == "failed" and "ValueError" in sidecar["reason"]
        assert take.spooled.final.exists() and not take.spooled.part.exists()  # what was recorded is kept
        logged = [r for r in caplog.records if r.exc_info and "unexpected error" in r.getMessage()]
        assert len(logged) == 1

        again = rig.record(str(uuid.uuid4()), SLATE)  # not refused with already_recording
        end = time.monotonic() + 10
        while again.frames_out < 10 and time.monotonic() < end:  # the new take really records
            time.sleep(0.05)
        rig.stop(None)
        assert again.wait(20) and not again.failed and again.spooled.final.exists()
    finally:
        rig.close()


# -- the uploader thread ----------------------------------------------------------------------------

class FaultyServer(ContractServer):
    """The contract server with per-take faults, answered before its normal routes."""

    def __init__(self) -> None:
        self.garbled: set[str] = set()  # the first PUT gets a 200 HTML page (a proxy), not JSON
        self.stored: set[str] = set()  # stored already (stage serve's answers when it cannot size the file)
        self.lose_tail: set[str] = set()  # the first complete finds half the bytes: 409 incomplete
        self.locked: set[str] = set()  # the first two PUTs meet a crew lockout from this address: 429 locked_out
        self.calls: dict[tuple[str, str], int] = {}
        super().__init__()

    def _routes(self, app: Flask) -> None:
        super()._routes(app)

        @app.before_request
        def fault() -> Any:
            parts = request.path.strip("/").split("/")  # api takes <id> upload|complete
            if len(parts) != 4 or parts[:2] != ["api", "takes"]:
                return None
            take_id, call = parts[2], f"{request.method} {parts[3]}"
            n = self.calls[take_id, call] = self.calls.get((take_id, call), 0) + 1
            if take_id in self.locked and call == "PUT upload" and n <= 2:
                return jsonify(ok=False, error={"code": "locked_out", "message": "wait a minute"}), 429
            if take_id in self.garbled and call == "PUT upload" and n == 1:
                return "<html><body>Bad gateway, try later</body></html>", 200, {"Content-Type": "text/html"}
            if take_id in self.stored:
                if call == "GET upload":
                    return jsonify(ok=True, received=0, complete=True)
                if call == "PUT upload":
                    if n > 50:  # bound the old tight loop so a failing run ends instead of spinning
                        return jsonify(ok=False, error={"code": "unknown_take"}), 404
                    return jsonify(ok=False, error={"code": "already_complete",
                                                    "message": "this take is already stored"}), 409
                if call == "POST complete":
                    self.completed[take_id] = request.get_json()
                    return jsonify(ok=True, take_id=take_id)
            if take_id in self.lose_tail and call == "POST complete" and n == 1:
                held = self.files.setdefault(take_id, bytearray())
                del held[len(held) // 2:]
                return jsonify(ok=False, error={"code": "incomplete", "message": "upload the rest first"},
                               received=len(held)), 409
            return None


@pytest.fixture
def faulty() -> Iterator[FaultyServer]:
    srv = FaultyServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def uploader(faulty: FaultyServer) -> Iterator[tuple[Uploader, queue.Queue]]:
    states: queue.Queue[tuple[str, str, str | None]] = queue.Queue()
    up = Uploader(faulty.url, TOKEN, "stage", lambda take, state, reason: states.put((take.take_id, state, reason)))
    up.start()
    yield up, states
    up.stop()


def spooled(spool: Path, size: int = 2_500_000) -> SpooledTake:
    spool.mkdir(exist_ok=True)
    take_id = str(uuid.uuid4())
    take = SpooledTake(spool, f"take_{take_id[:8]}", take_id, SLATE, "finished",
                       figures={"duration": 1.0, "frames": 30, "width": 320, "height": 240})
    take.final.write_bytes(os.urandom(size))
    take.save()
    return take


def state_of(states: queue.Queue, take: SpooledTake, timeout: float = 15) -> tuple[str, str | None]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            take_id, state, reason = states.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            break
        if take_id == take.take_id:
            return state, reason
    raise AssertionError(f"no take_state for take {take.take_id} within {timeout} s")


def deleted(path: Path, timeout: float = 5) -> bool:
    """The uploader deletes the local files just after reporting ``uploaded``."""
    end = time.monotonic() + timeout
    while path.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return not path.exists()


def test_non_json_reply_fails_that_take_and_the_next_one_uploads(tmp_path, faulty, uploader) -> None:
    up, states = uploader
    bad, good = spooled(tmp_path / "spool"), spooled(tmp_path / "spool")
    data = good.final.read_bytes()
    faulty.garbled.add(bad.take_id)
    up.submit(bad)
    up.submit(good)
    state, reason = state_of(states, bad)
    assert state == "failed" and reason.startswith("upload failed:")
    assert bad.final.exists()  # kept in the spool; uploaded again on the next start
    assert state_of(states, good) == ("uploaded", None)
    assert bytes(faulty.files[good.take_id]) == data and deleted(good.final)


def test_missing_spool_file_fails_that_take_and_the_next_one_uploads(tmp_path, faulty, uploader) -> None:
    up, states = uploader
    gone, good = spooled(tmp_path / "spool"), spooled(tmp_path / "spool")
    gone.final.unlink()  # someone cleaned the spool by hand: a real FileNotFoundError
    up.submit(gone)
    up.submit(good)
    state, reason = state_of(states, gone)
    assert state == "failed" and "FileNotFoundError" in reason
    assert state_of(states, good) == ("uploaded", None)
    assert faulty.completed[good.take_id]["size"] == len(faulty.files[good.take_id])


def test_already_complete_goes_on_to_complete_without_spinning(tmp_path, faulty, uploader) -> None:
    up, states = uploader
    take = spooled(tmp_path / "spool")
    faulty.stored.add(take.take_id)
    up.submit(take)
    assert state_of(states, take) == ("uploaded", None)
    assert faulty.calls[take.take_id, "PUT upload"] == 1
    assert faulty.completed[take.take_id]["size"] == 2_500_000 and deleted(take.final)


def test_incomplete_at_complete_resends_from_the_servers_received(tmp_path, faulty, uploader) -> None:
    up, states = uploader
    take = spooled(tmp_path / "spool")
    data = take.final.read_bytes()
    faulty.lose_tail.add(take.take_id)
    up.submit(take)
    assert state_of(states, take) == ("uploaded", None)
    assert faulty.calls[take.take_id, "POST complete"] == 2
    assert bytes(faulty.files[take.take_id]) == data


def test_a_crew_lockout_from_the_rigs_address_delays_the_upload_and_never_fails_the_take(tmp_path, faulty,
                                                                                         uploader) -> None:
    """Ten wrong crew passphrases from the rig's own address (the serve laptop, a NAT) lock that address out
    for a minute: the take waits and goes up after, instead of being marked failed."""
    up, states = uploader
    take = spooled(tmp_path / "spool")
    data = take.final.read_bytes()
    faulty.locked.add(take.take_id)
    up.submit(take)
    assert state_of(states, take, timeout=30) == ("uploaded", None)
    assert faulty.calls[take.take_id, "PUT upload"] >= 3 and bytes(faulty.files[take.take_id]) == data
