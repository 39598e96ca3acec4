"""The floor of our stack for B1: a bare Flask-SocketIO server doing what the night scenario asks of
Stage (join, submit, recommend, moderate, batched feed updates once a second) in memory, with nothing
else: no store, no validation models, no audit. ``stage rehearse`` drives it like a real Stage.

    python bench/bare_audience.py PORT [gevent|eventlet]
"""

import sys

MODE = sys.argv[2] if len(sys.argv) > 2 else "gevent"
if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
else:
    import eventlet

    eventlet.monkey_patch()

import gc  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from flask import Flask, jsonify, make_response, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode=MODE, logger=False, engineio_logger=False, ping_interval=10, ping_timeout=20)
PROMPT = {"id": "cape", "text": "A tiny story about a cape", "kinds": ["story"], "max_chars": 280, "max_words": None}
participants: dict[str, dict] = {}  # device key -> participant
phones: dict[str, str] = {}  # sid -> participant id
records: dict[str, dict] = {}
recommendations: dict[str, set] = {}
dirty: set[str] = set()


@app.get("/healthz")
def healthz():
    return jsonify({"status": "ok", "show": "bare Flask-SocketIO", "phones": len(phones)})


@app.post("/login/host")
def login():
    response = make_response("", 302)
    response.headers["Location"] = "/host"
    response.set_cookie("bare", "host")
    return response


@app.post("/api/rehearsal/<action>")
def rehearsal(action):
    return jsonify({"ok": True, "token": "bare", "removed": {}, "left": {}})


@socketio.on("join", namespace="/audience")
def join(data):
    participant = participants.setdefault(data["device_key"], {"id": str(uuid.uuid4()), "name": data["name"]})
    phones[request.sid] = participant["id"]
    join_room("phones")
    return {"ok": True, "participant": participant, "prompt": PROMPT, "records": []}


@socketio.on("disconnect", namespace="/audience")
def leave(reason=None):
    phones.pop(request.sid, None)


@socketio.on("submit_story", namespace="/audience")
def submit_story(data):
    now = time.time()
    record = {"id": data["id"], "kind": "story", "status": "pending", "text": data["text"], "prompt": data["prompt"],
              "participant": phones.get(request.sid), "created_at": now, "updated_at": now}
    records[record["id"]] = record
    socketio.emit("queue_add", {"record": record}, namespace="/moderation", to="moderators")
    return {"ok": True, "record": record}


@socketio.on("recommend", namespace="/audience")
def recommend(data):
    recommendations.setdefault(data["id"], set()).add(phones.get(request.sid))
    dirty.add(data["id"])
    return {"ok": True, "id": data["id"], "count": len(recommendations[data["id"]])}


@socketio.on("connect", namespace="/moderation")
def moderator_connect(auth=None):
    join_room("moderators")


@socketio.on("moderate", namespace="/moderation")
def moderate(data):
    record = records[data["id"]]
    record["status"], record["updated_at"] = "approved", time.time()
    dirty.add(record["id"])
    return {"ok": True, "record": record}


def feed_loop():
    global dirty
    while True:
        socketio.sleep(1)
        if dirty:
            batch, dirty = dirty, set()
            items = [{**records[i], "approved_at": records[i]["updated_at"],
                      "recommendations": len(recommendations.get(i, ()))} for i in batch if records[i]["status"] == "approved"]
            socketio.emit("feed_update", {"records": items, "removed": []}, namespace="/audience", to="phones")


if __name__ == "__main__":
    socketio.start_background_task(feed_loop)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # the same GC settings as stage serve: a like-for-like floor
    extra = {"max_size": 20_000} if MODE == "eventlet" else {}
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False, **extra)
