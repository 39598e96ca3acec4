"""The floor of our stack: a bare Flask-SocketIO/gevent server that does what a GO does for displays
(an event in, one emit to a room of displays, an ack), with nothing else. Run by go_latency.py."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent", logger=False, engineio_logger=False)
count = 0


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@socketio.on("connect", namespace="/display")
def display_connect(auth=None) -> None:
    join_room("display:main")


@socketio.on("go", namespace="/host")
def go(data=None) -> dict:
    global count
    count += 1
    socketio.emit("scene", {"display": "main", "scene": {"type": "message", "text": str(count)}},
                  namespace="/display", to="display:main")
    return {"ok": True}


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False)
