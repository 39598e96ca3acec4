"""The moving-window limiter of the hot paths: same answers as a moving window, no timer thread."""

from __future__ import annotations

import inspect
import threading

from limits import parse

from stage.limiter import SWEEP_EVERY, MovingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_refuses_until_the_oldest_hit_leaves_it():
    clock = Clock()
    limiter = MovingWindowLimiter(clock)
    three = parse("3 per 10 seconds")
    assert [limiter.hit(three, "phone", "a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three, "phone", "b"), "each key has its own window"
    clock.now += 9.9
    assert not limiter.test(three, "phone", "a")
    clock.now += 0.2  # the first three hits are now older than the window
    assert limiter.test(three, "phone", "a") and limiter.hit(three, "phone", "a")


def test_a_refused_hit_is_not_counted_and_test_counts_nothing():
    clock = Clock()
    limiter = MovingWindowLimiter(clock)
    one = parse("1 per 2 seconds")
    assert limiter.test(one, "k") and limiter.test(one, "k")
    assert limiter.hit(one, "k")
    clock.now += 1
    assert not limiter.hit(one, "k")
    clock.now += 1.01  # only the first hit counted: it has left the window
    assert limiter.hit(one, "k")


def test_idle_keys_are_swept_without_a_thread(monkeypatch):
    # Threads started from the limiter's own code, not a count of all threads: threads other tests left
    # behind (a client winding down) start and end meanwhile, which made a before/after count flaky.
    from_limiter, start = [], threading.Thread.start

    def recording_start(thread: threading.Thread) -> None:
        from_limiter.extend(f.filename for f in inspect.stack() if f.filename.endswith("stage/limiter.py"))
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    clock = Clock()
    limiter = MovingWindowLimiter(clock)
    item = parse("20 per 2 seconds")
    for n in range(SWEEP_EVERY - 1):
        limiter.hit(item, "sid", str(n))
    assert len(limiter) == SWEEP_EVERY - 1 and from_limiter == []
    clock.now += 3
    limiter.hit(item, "sid", "late")  # the sweep runs on this hit: only the key just used is left
    assert len(limiter) == 1


def test_a_reservation_counts_at_once_and_a_release_gives_it_back():
    clock = Clock()
    limiter = MovingWindowLimiter(clock)
    two = parse("2 per 10 seconds")
    first, second = limiter.reserve(two, "k"), limiter.reserve(two, "k")
    assert first is not None and second is not None
    assert limiter.reserve(two, "k") is None and not limiter.test(two, "k"), "reserved slots count before any work"
    limiter.release(two, second, "k")  # that work was refused: its slot is free again
    assert limiter.reserve(two, "k") is not None and limiter.reserve(two, "k") is None


def test_in_flight_caps_work_running_at_once_per_key():
    from stage.limiter import InFlight

    cap = InFlight(2)
    assert [cap.acquire("a") for _ in range(3)] == [True, True, False]
    assert cap.acquire("b"), "each key has its own cap"
    cap.release("a")
    assert cap.acquire("a") and not cap.acquire("a")
    for _ in range(2):
        cap.release("a")
    assert cap.running("a") == 0


def test_clear_forgets_one_key_only():
    limiter = MovingWindowLimiter(Clock())
    two = parse("2 per minute")
    for key in ("a", "b"):
        limiter.hit(two, "login", key, "host")
        limiter.hit(two, "login", key, "host")
    limiter.clear(two, "login", "a", "host")
    assert limiter.test(two, "login", "a", "host") and not limiter.test(two, "login", "b", "host")
