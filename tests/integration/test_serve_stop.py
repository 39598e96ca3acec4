"""A SIGTERM stops the server even when it lands inside a greenlet that catches everything (issue 15).

Which greenlet a signal interrupts is chance: under load, more often one of python-engineio's, whose
bare ``except:`` swallowed the SystemExit that Flask-SocketIO's ``stop()`` raised under eventlet. Here the
signal is sent from inside such a greenlet, so the chance is certain: the old handler never stopped.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.stage_process import REPO, free_port

SERVER = """
import sys
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "eventlet":
    import eventlet; eventlet.monkey_patch()
else:
    from gevent import monkey; monkey.patch_all()
import os, signal
from flask import Flask
from flask_socketio import SocketIO
from stage.shutdown import StopOnSignal

app = Flask(__name__)
socketio = SocketIO(app, async_mode=mode)

def swallower():
    socketio.sleep(0.5)  # the server is listening by now
    try:  # like engineio's websocket writer: a bare except around work the signal interrupts
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            socketio.sleep(0)
    except:  # noqa: E722
        print("swallowed", flush=True)

StopOnSignal(socketio).install()
socketio.start_background_task(swallower)
if mode == "gevent":  # how stage serve listens in each mode (stage/cli.py): stop() must reach that server
    from stage.web import gevent_server
    gevent_server.serve(app, socketio, "127.0.0.1", port)
else:
    socketio.run(app, host="127.0.0.1", port=port, log_output=False, max_size=20_000)
print("stopped", flush=True)
"""


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_sigterm_inside_a_greenlet_that_catches_everything_still_stops_the_server(mode):
    proc = subprocess.Popen([sys.executable, "-W", "ignore", "-c", SERVER, mode, str(free_port())], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)  # a deadline for the exit, not a measure of it
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the server did not stop on SIGTERM: {out}{err[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out + err
    assert "stopped" in out and "swallowed" not in out, out + err
