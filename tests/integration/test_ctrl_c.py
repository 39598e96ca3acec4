"""Ctrl-C on ``stage serve`` as a terminal sends it (issue 18): no ``KeyboardInterrupt`` traceback, one line that
the show stopped and where its data is, exit status 0; the same when Ctrl-C is pressed again while it stops.

A terminal's Ctrl-C is SIGINT to the whole foreground process group: ``stage serve`` and every process it
started (the demo show's local capture agent). So the server runs in a session of its own here and the
signal goes to its group, as the terminal's would, never to one pid only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import demo_show
from tests.stage_process import HOST_PASSWORD, MODERATOR_PASSWORD, CREW_PASSWORD, REPO, descendants, free_port
from tests.waiting import wait_until

STOP_DEADLINE = 60  # a deadline for the exit (an agent finishing its take may take a while), not a measure of it


class Terminal:
    """``stage serve`` started as from a shell: its own process group, stdout and stderr kept in files."""

    def __init__(self, tmp: Path, mode: str, *extra: str) -> None:
        self.data = tmp / "data"
        self.port = free_port()
        self.out, self.err = tmp / "stdout.txt", tmp / "stderr.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "stage", "serve", str(demo_show(tmp)), "--data", str(self.data), "--bind",
                 "127.0.0.1", "--port", str(self.port), "--async-mode", mode, "--host-password", HOST_PASSWORD,
                 "--moderator-password", MODERATOR_PASSWORD, "--crew-password", CREW_PASSWORD, *extra],
                cwd=REPO, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self.started: dict[int, str] = {}

    def log(self) -> str:
        path = self.data / "stage.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def ctrl_c(self) -> None:
        self.started = {**self.started, **descendants(self.proc.pid)}
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:  # it has exited (and been reaped) already: that press found nobody
            pass

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=STOP_DEADLINE)
        finally:
            self.kill_leftovers()

    def kill_leftovers(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in descendants(self.proc.pid) | self.started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def terminal(self) -> str:
        return self.out.read_text(encoding="utf-8") + self.err.read_text(encoding="utf-8")


@pytest.fixture
def serve(tmp_path):
    opened: list[Terminal] = []

    def start(mode: str = "gevent", *extra: str) -> Terminal:
        opened.append(Terminal(tmp_path, mode, *extra))
        return opened[-1]

    yield start
    for terminal in opened:
        terminal.kill_leftovers()


def _serving(terminal: Terminal) -> bool:
    try:
        health = requests.get(f"http://127.0.0.1:{terminal.port}/healthz", timeout=2).json()
    except (requests.ConnectionError, requests.Timeout):
        return False
    return health["rigs"].get("stage") == "online"  # the local agent is up too: Ctrl-C reaches it as well


def _clean(terminal: Terminal) -> None:
    text = terminal.terminal()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text[-4000:]
    assert "Aborted!" not in text, "click's own Ctrl-C message: the press went past Stage"
    assert text.count("Stage stopped; the night's data is in ") == 1, text[-4000:]
    assert f"Stage stopped; the night's data is in {terminal.data.resolve()}" in text


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_ctrl_c_stops_the_demo_night_with_one_line_and_no_traceback(serve, mode):
    terminal = serve(mode)
    wait_until(lambda: _serving(terminal), 90, what="the demo night and its local rig to be up", every=0.2)
    terminal.ctrl_c()
    assert terminal.wait() == 0, terminal.terminal()[-4000:]
    _clean(terminal)
    assert "Ctrl-C: stopping Stage" in terminal.log()
    assert "local capture agent for rig stage stopped" in terminal.log()
    assert "exited with status" not in terminal.log(), "serve stops its agent itself, in order"


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_ctrl_c_pressed_again_while_stopping_changes_nothing(serve, mode):
    terminal = serve(mode)
    wait_until(lambda: _serving(terminal), 90, what="the demo night and its local rig to be up", every=0.2)
    terminal.ctrl_c()
    wait_until(lambda: "stopping Stage" in terminal.log(), 30, what="serve to begin stopping")
    terminal.ctrl_c()  # the impatient second press, while the agent and the store are being closed
    assert terminal.wait() == 0, terminal.terminal()[-4000:]
    _clean(terminal)
    assert "local capture agent for rig stage stopped" in terminal.log()


def test_ctrl_c_while_the_night_loads_is_a_stop_once_it_has(serve):
    terminal = serve("gevent", "--no-local-rigs")
    # The store's migrations are logged as the night loads (create_app): the press lands in the middle of it.
    wait_until(lambda: "migrated to schema" in terminal.log(), 60, what="the store to be opened", every=0.01)
    terminal.ctrl_c()
    assert terminal.wait() == 0, terminal.terminal()[-4000:]
    _clean(terminal)


# A server whose shutdown lasts: after serving it is pressed again and waits (cooperatively), as `stage serve`
# waits for its agents and its store. The second press must be answered with a line, not a traceback.
SLOW_STOP = """
import sys
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "eventlet":
    import eventlet; eventlet.monkey_patch()
else:
    from gevent import monkey; monkey.patch_all()
import logging, os, signal
from flask import Flask
from flask_socketio import SocketIO
from stage.shutdown import StopOnSignal

logging.basicConfig(level=logging.INFO, stream=sys.stdout)
heard = []
class Ear(logging.Handler):
    def emit(self, record):
        heard.append(record.getMessage())
logging.getLogger("stage.shutdown").addHandler(Ear())
app = Flask(__name__)
socketio = SocketIO(app, async_mode=mode)
stopper = StopOnSignal()
stopper.catch()
stopper.install(socketio)
socketio.start_background_task(lambda: (socketio.sleep(0.3), os.kill(os.getpid(), signal.SIGINT)))
if mode == "gevent":
    from stage.web import gevent_server
    gevent_server.serve(app, socketio, "127.0.0.1", port)
else:
    socketio.run(app, host="127.0.0.1", port=port, log_output=False)
print("serving ended", flush=True)
os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, while the shutdown still runs
for _ in range(200):  # a deadline of 10 s for the answer, cooperatively, as serve's own shutdown waits
    if any("still stopping" in line for line in heard):
        break
    socketio.sleep(0.05)
print("stopped", flush=True)
"""


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_a_second_ctrl_c_during_the_shutdown_is_answered_with_a_line(mode):
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", SLOW_STOP, mode, str(free_port())], cwd=REPO,
                          capture_output=True, text=True, timeout=STOP_DEADLINE)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert "Ctrl-C: stopping Stage" in text and "serving ended" in text and "stopped" in text
    assert "still stopping" in text.split("serving ended", 1)[1], "the second press was heard, and said so"
