"""The server's way: stdlib monkey-patched, python-socketio's start_background_task/sleep injected.

Monkey-patching cannot be undone inside pytest, so each mode runs in its own Python process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.green import run_patched

SCRIPT = r'''
import json, socket, time
import socketio
from pythonosc.osc_message import OscMessage as Parsed
from stage.lighting.messages import message
from stage.lighting.remote import OscRemote
from stage.lighting.sender import OscSender
from stage.show.models import OscTarget

sio = socketio.Server(async_mode=mode)
out = {}

got = []
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
def receive():
    while True:
        data, _ = rx.recvfrom(65535)
        got.append(Parsed(data).params[0])
sio.start_background_task(receive)
target = OscTarget(name="desk", host="127.0.0.1", port=rx.getsockname()[1])
sender = OscSender([target], spawn=sio.start_background_task, sleep=sio.sleep)
sender.send("desk", [message("/burst", i) for i in range(1000)])
deadline = time.monotonic() + 10
while len(got) < 1000 and time.monotonic() < deadline:
    sio.sleep(0.01)
out["burst_in_order"] = got == list(range(1000))
sender.close()

class Handlers:
    def go(self): return "GO"
    def back(self): return "back"
    def panic(self): return "panic"
    def cue_go(self, cue_id): return cue_id
    def display_scene(self, display, scene): return scene
remote = OscRemote(0, "127.0.0.1", ["127.0.0.1"], Handlers(), spawn=sio.start_background_task)
remote.start()
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(5)
client.sendto(message("/stage/go").encode(), ("127.0.0.1", remote.port))
reply = Parsed(client.recv(65535))
out["reply"] = [reply.address, list(reply.params)]
remote.close()
out["remote_closed"] = remote._done.is_set()
print(json.dumps(out))
'''


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_sender_and_remote_under_monkey_patching(mode: str, tmp_path: Path) -> None:
    result = run_patched(SCRIPT, mode, tmp_path)
    assert result == {"burst_in_order": True, "reply": ["/stage/reply/go", ["ok", "GO"]], "remote_closed": True}
