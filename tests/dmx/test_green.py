"""The frame loop the server's way: stdlib monkey-patched, python-socketio's start_background_task and sleep
injected, for a second. It checks that frames flow and their sequences never skip, not how punctual they are
(speed lives in bench/). Monkey-patching cannot be undone inside pytest, so each mode runs in its own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.green import run_patched

SCRIPT = r'''
import json, socket, time
import socketio
from stage.dmx.output import DmxOutput
from stage.show.dmx import DmxNode
from tests.dmx.receivers import ArtNetReceiver, SacnReceiver, artnet_sequence_ok, sacn_sequence_ok

sio = socketio.Server(async_mode=mode)
rx, art = SacnReceiver(), ArtNetReceiver()
draining = True

def drain():
    while draining:
        rx.drain()
        art.drain()
        sio.sleep(0.005)

sio.start_background_task(drain)

class Source:
    start = time.monotonic()
    def frame(self, universe, now):
        return bytes([universe, int((now - self.start) * 100) % 256]) + bytes(510)
    def changing(self, universe, now):
        return True

nodes = [DmxNode(name="left", protocol="sacn", address="127.0.0.1", port=rx.port, universes=(1, 2)),
         DmxNode(name="named", protocol="sacn", address="localhost", port=rx.port, universes=(3,)),
         DmxNode(name="bar", protocol="artnet", address="127.0.0.1", port=art.port, universes=(0,))]
out = DmxOutput(nodes, rate=40, source=Source(), cid=bytes(range(16)), default_source_name="green",
                spawn=sio.start_background_task, sleep=sio.sleep, resolve=socket.gethostbyname)
out.start()
deadline = time.monotonic() + 10  # every node ok (the named one once its resolver answered) and a second of frames
started = time.monotonic()
while time.monotonic() < deadline and (time.monotonic() - started < 1.0
                                       or any(s["status"] != "ok" for s in out.status().values())):
    sio.sleep(0.02)
status = {name: s["status"] for name, s in out.status().items()}
out.close()
deadline = time.monotonic() + 10
def said_goodbye():
    frames = rx.frames()
    return all(sum(p.option_StreamTerminated for p in frames if p.universe == u) == 3 for u in (1, 2, 3))
while not said_goodbye() and time.monotonic() < deadline:
    sio.sleep(0.01)
draining = False
result = {"status": status, "goodbye": said_goodbye()}
frames = rx.frames()
for universe in (1, 2, 3):
    mine = [p for p in frames if p.universe == universe]
    result[f"u{universe}"] = {"some": len(mine) > 3, "in_order": sacn_sequence_ok([p.sequence for p in mine]),
                              "data": all(p.dmxData[0] == universe for p in mine)}
sequences = [f.sequence for f in art.frames()]
result["artnet"] = {"some": len(sequences) > 3, "in_order": artnet_sequence_ok(sequences)}
print(json.dumps(result))
'''


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_the_frame_loop_under_monkey_patching(mode: str, tmp_path: Path) -> None:
    result = run_patched(SCRIPT, mode, tmp_path)
    flowing = {"some": True, "in_order": True, "data": True}
    assert result == {"status": {"left": "ok", "named": "ok", "bar": "ok"}, "goodbye": True,
                      "u1": flowing, "u2": flowing, "u3": flowing, "artnet": {"some": True, "in_order": True}}
