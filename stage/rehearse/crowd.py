"""One process's share of a rehearsal: N simulated phones in one asyncio loop.

Phones join over the ramp with the audience flow (``join`` with ``simulated: true``), submit stories to
the open prompt at this process's share of the rate, recommend records they have seen, and time every
ack and every feed update. Update latency is arrival time minus the record's ``approved_at`` (server
clock), counted once per phone and record, only for records approved after that phone joined.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Any

from stage.rehearse.phone import LeanPhone, PhoneClosed
from stage.rehearse.tally import Tally

log = logging.getLogger(__name__)
REPORT_EVERY = 0.5
STORY = "A tiny story from a rehearsal phone: the cape was too long, so the hero wore it as a river."


@dataclass(frozen=True)
class Plan:
    url: str
    phones: int
    first_index: int  # phone names are numbered across processes
    submit_rate: float  # this process's share, a second
    recommend_rate: float  # this process's share, a second
    duration: float
    ramp: float
    token: str | None
    ack_timeout: float


class SimPhone(LeanPhone):
    def __init__(self, url: str, tally: Tally, crowd: "Crowd") -> None:
        super().__init__(url, on_event=self._event)
        self.tally, self.crowd = tally, crowd
        self.joined_at = 0.0
        self.seen: set[str] = set()
        self.last_feed: float | None = None
        self.slot: int | None = None  # index in Crowd.live_phones while connected

    def _event(self, event: str, data: Any, arrived: float) -> None:
        if event == "feed_update":
            self.tally.counts["feed_messages"] += 1
            if self.last_feed is not None:
                gap = (arrived - self.last_feed) * 1000
                if self.tally.min_update_gap_ms is None or gap < self.tally.min_update_gap_ms:
                    self.tally.min_update_gap_ms = gap
            self.last_feed = arrived
            for item in data.get("records", []):
                if item["id"] in self.seen:
                    continue
                self.seen.add(item["id"])
                self.crowd.saw(item["id"])
                approved_at = item.get("approved_at")
                if approved_at is not None and approved_at >= self.joined_at:
                    self.tally.counts["updates"] += 1
                    self.tally.update_ms.append((arrived - approved_at) * 1000)
        elif event == "prompt":
            self.crowd.set_prompt(data.get("prompt"))


class Crowd:
    def __init__(self, plan: Plan, report: Any, stop: Any) -> None:
        self.plan, self.report, self.stop = plan, report, stop
        self.tally = Tally()
        self.phones: list[SimPhone] = []  # every phone that joined
        self.live_phones: list[SimPhone] = []  # those still connected: kept as phones drop, never rescanned
        self.prompt: str | None = None
        self.prompt_checked = False
        self.seen_ids: list[str] = []  # records some phone here has seen, once each: what they recommend
        self._seen: set[str] = set()
        self.pending: set[asyncio.Task] = set()

    def saw(self, record_id: str) -> None:
        if record_id not in self._seen:
            self._seen.add(record_id)
            self.seen_ids.append(record_id)

    def set_prompt(self, prompt: dict | None) -> None:
        self.prompt_checked = True
        if prompt is None:
            self.prompt = None
            self.tally.notes.add("no prompt is open: no stories were submitted while it was closed")
        elif "story" not in prompt.get("kinds", []):
            self.prompt = None
            self.tally.notes.add(f"the open prompt {prompt['id']!r} takes no stories")
        else:
            self.prompt = prompt["id"]

    def _dropped(self, phone: SimPhone) -> None:
        self.tally.ended("dropped")
        slot = phone.slot
        if slot is not None:  # swap-remove: O(1) per drop, even when a restarting server drops them all
            last = self.live_phones.pop()
            if last is not phone:
                self.live_phones[slot] = last
                last.slot = slot
            phone.slot = None

    async def run(self) -> None:
        begin = time.monotonic()
        end = begin + self.plan.duration
        reporter = asyncio.create_task(self._report_loop())
        joining = asyncio.create_task(self._join_all(begin))
        senders = [asyncio.create_task(self._paced(begin, end, self.plan.submit_rate, self._submit, scaled=True)),
                   asyncio.create_task(self._paced(begin, end, self.plan.recommend_rate, self._recommend))]
        lag = asyncio.create_task(self._watch_lag())
        while time.monotonic() < end and not self.stop.is_set():
            await asyncio.sleep(0.1)
        for task in (joining, *senders):
            task.cancel()
        if self.pending:  # answers still on their way count, up to the ack timeout
            await asyncio.wait(self.pending, timeout=self.plan.ack_timeout)
        lag.cancel()
        self.report.put(("delta", self.tally.take_delta()))  # every join counted before the phones leave (the peak)
        for phone in self.phones:  # from here an ending connection is ours, not a drop: never counted twice
            phone.closed_by_us = True
        self.tally.ended("left", len(self.live_phones))
        await asyncio.gather(*(p.close() for p in self.phones), return_exceptions=True)
        reporter.cancel()
        self.report.put(("delta", self.tally.take_delta()))

    async def _join_all(self, begin: float) -> None:
        gate = asyncio.Semaphore(200)  # connections being opened at once
        count = self.plan.phones
        tasks = []
        for n in range(count):
            await asyncio.sleep(max(0.0, begin + self.plan.ramp * n / max(1, count) - time.monotonic()))
            tasks.append(asyncio.create_task(self._join(self.plan.first_index + n, gate)))
        await asyncio.gather(*tasks)

    async def _join(self, index: int, gate: asyncio.Semaphore) -> None:
        phone = SimPhone(self.plan.url, self.tally, self)
        async with gate:
            try:
                await phone.connect(timeout=self.plan.ack_timeout)
                ack = await phone.call("join", {"device_key": f"rehearsal-{uuid.uuid4().hex}", "name": f"Sim {index}",
                                                "simulated": True, "rehearsal": self.plan.token},
                                       timeout=self.plan.ack_timeout)
            except Exception as exc:  # refused, reset, timed out, not Stage: each counts as a phone that never got in
                self.tally.counts["connect_failed"] += 1
                self.tally.notes.add(f"connect failed: {type(exc).__name__}: {str(exc)[:120]}")
                await phone.close()
                return
        if not ack.get("ok"):
            self.tally.refused[ack["error"]["code"]] += 1
            self.tally.notes.add(f"join refused: {ack['error']['message']}")
            await phone.close()
            return
        phone.joined_at = time.time()
        if not self.prompt_checked:
            self.set_prompt(ack.get("prompt"))
        self.phones.append(phone)
        phone.slot = len(self.live_phones)
        self.live_phones.append(phone)
        phone.on_drop = self._dropped
        self.tally.joined()  # before a drop it may already have had: a join, then its end
        if phone.dropped.is_set():  # dropped between the join's ack and here
            self._dropped(phone)
        self.report.put(("participant", ack["participant"]["id"]))

    async def _watch_lag(self) -> None:
        """How late this process's own loop wakes up: when it is busy or starved of CPU, its latencies
        include that delay, so the figures say how far the load tool itself can be trusted."""
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.1)
            self.tally.loop_lag_ms.append((time.perf_counter() - asked - 0.1) * 1000)

    async def _paced(self, begin: float, end: float, rate: float, action: Any, scaled: bool = False) -> None:
        """``action`` at ``rate`` a second on live phones in turn. ``scaled``: in proportion to the phones
        joined so far, so the first phones of the ramp do not carry the whole room's rate (and trip their
        own submit limit, which a real audience never would)."""
        if rate <= 0:
            return
        turn = itertools.count()
        for n in itertools.count():
            due = begin + n / rate
            if due >= end:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            phones = self.live_phones
            if scaled and random.random() * self.plan.phones >= len(phones):
                continue
            if phones:  # round robin: each phone's own submit limit is never the bottleneck
                task = asyncio.create_task(action(phones[next(turn) % len(phones)]))
                self.pending.add(task)
                task.add_done_callback(self.pending.discard)

    async def _submit(self, phone: SimPhone) -> None:
        if self.prompt is None:
            return
        await self._timed(phone, "submit_story", {"id": str(uuid.uuid4()), "prompt": self.prompt, "text": STORY})

    async def _recommend(self, phone: SimPhone) -> None:
        if self.seen_ids:
            try:
                await phone.call("recommend", {"id": random.choice(self.seen_ids), "on": True}, self.plan.ack_timeout)
                self.tally.counts["recommends"] += 1
            except (PhoneClosed, asyncio.TimeoutError, OSError):
                pass

    async def _timed(self, phone: SimPhone, event: str, data: dict) -> None:
        self.tally.counts["submits"] += 1
        sent = time.perf_counter()
        try:
            ack = await phone.call(event, data, self.plan.ack_timeout)
        except Exception:  # closed, timed out or reset before the ack: the story is lost
            self.tally.counts["lost"] += 1
            return
        if ack.get("ok"):
            self.tally.counts["acks"] += 1
            self.tally.ack_ms.append((time.perf_counter() - sent) * 1000)
        else:
            self.tally.errors[ack["error"]["code"]] += 1

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY)
            self.report.put(("delta", self.tally.take_delta()))


def work(plan: Plan, report: Any, stop: Any) -> None:
    """Entry point of a worker process: the coordinator handles Ctrl-C and tells us through ``stop``.
    uvloop's event loop, where installed, carries more phones per core than asyncio's own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run = asyncio.run
        try:
            import uvloop

            run = uvloop.run
        except ImportError:
            pass
        run(Crowd(plan, report, stop).run())
    except Exception as exc:  # the coordinator reports it; the other workers go on
        report.put(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        report.put(("done", None))
