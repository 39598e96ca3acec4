"""What an event leaves behind: no reference cycle per Socket.IO event, and the full collection the
server runs on a timer (stage/collector.py) frees the cycles that do form."""

from __future__ import annotations

import gc
import weakref

from flask import request

from stage import collector


def test_a_socket_event_runs_in_a_request_context_that_raised_nothing(app, consoles):
    phone = consoles.phone("Ada")
    seen = {}
    namespace = app.extensions["stage.socketio"].server.namespace_handlers["/audience"]
    original = namespace.on_feed

    def spy(*args, **kwargs):
        seen["routing_exception"] = request.routing_exception
        seen["endpoint"] = request.endpoint
        return original(*args, **kwargs)

    namespace.on_feed = spy
    try:
        assert phone.call("feed", {"limit": 1})["ok"]
    finally:
        del namespace.on_feed
    # Before the socket_context route: NotFound, whose traceback holds this very request context.
    assert seen == {"routing_exception": None, "endpoint": "socket_context.socketio_events"}


def test_a_real_request_to_the_socket_path_never_reaches_the_view(client):
    answer = client.get("/socket.io/")  # python-engineio answers it (no EIO version: 400), not Flask's 404
    assert answer.status_code == 400 and b"404" not in answer.data


class Node:
    def __init__(self) -> None:
        self.other = self  # a cycle: only the collector frees it


def test_a_full_collection_frees_cycles_the_young_generations_left(monkeypatch):
    gc.collect()
    node = Node()
    alive = weakref.ref(node)
    gc.collect(0)
    gc.collect(1)  # survived both young generations: now only a full collection can free it
    del node
    gc.collect(0)
    gc.collect(1)
    assert alive() is not None, "the young collections do not reach it"
    assert collector.collect_once() >= 1
    assert alive() is None


def test_the_timer_keeps_collecting_after_a_failed_collection(monkeypatch, caplog):
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a finaliser raised")
        if len(calls) == 3:
            raise SystemExit  # the end of this test's loop
        return 0

    monkeypatch.setattr(collector, "collect_once", flaky)
    waits = []
    try:
        collector.collect_forever(waits.append, every=60)
    except SystemExit:
        pass
    assert len(calls) == 3 and waits == [60, 60, 60]
    assert "a full garbage collection failed" in caplog.text


# A fresh interpreter (its heap is this test's alone): ~100 MB in blocks small enough for glibc's heap
# (below its 128 KiB mmap threshold), all freed but the last, which pins the heap's top so glibc's own
# trimming at free() cannot hand the hole below it back. Only malloc_trim does.
HEAP_HOLE = """
import sys
from stage import collector

def rss_mb():
    line = next(l for l in open("/proc/self/status") if l.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024

blocks = [bytes(50_000) + bytes([i % 256]) for i in range(2_000)]
pin = blocks[-1]
del blocks[:-1]
before = rss_mb()
collector.collect_once()
print(before, rss_mb())
"""


def test_a_full_collection_hands_freed_heap_back_to_the_system():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", HEAP_HOLE], capture_output=True, text=True, check=True).stdout
    before, after = (float(x) for x in out.split())
    assert before > 90, f"the freed blocks were still counted in RSS before the collection ({before:.0f} MB)"
    assert before - after > 70, f"RSS {before:.0f} -> {after:.0f} MB: the freed heap stayed with the process"
