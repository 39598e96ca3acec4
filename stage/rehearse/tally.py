"""What a rehearsal counts and times, mergeable across worker processes, and the verdict."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

COUNTERS = ("joined", "left", "connect_failed", "dropped", "submits", "acks", "lost", "recommends", "feed_messages",
            "updates")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None when nothing was measured (never a made-up zero)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))]


def summary(values: list[float]) -> dict[str, float | int | None]:
    rounded = {f"p{q}": percentile(values, q) for q in (50, 95, 99)}
    out: dict[str, float | int | None] = {k: None if v is None else round(v, 1) for k, v in rounded.items()}
    out["max"] = round(max(values), 1) if values else None
    out["count"] = len(values)
    return out


@dataclass
class Tally:
    """Counters plus latency samples. A worker sends deltas; the coordinator adds them up."""

    counts: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # join refusals by error code (full, rate_limited...)
    errors: Counter = field(default_factory=Counter)  # submit refusals by error code
    ack_ms: list[float] = field(default_factory=list)
    update_ms: list[float] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)  # the load tool's own event-loop lateness
    min_update_gap_ms: float | None = None  # shortest gap between two feed updates to one phone
    # When each phone joined and when each connection ended (dropped or left), on time.monotonic(): one
    # clock for every process of a machine, so the workers' times merge into one exact peak. Counting
    # the peak from the totals at each report instead netted joins and drops of one report interval:
    # 8 phones that joined and were dropped by a server stop within 0.5 s counted as 4 (issue 15).
    join_times: list[float] = field(default_factory=list)
    end_times: list[float] = field(default_factory=list)
    peak_seen: int = 0  # the largest total connected at a report: cheap, for the live table only
    notes: set[str] = field(default_factory=set)

    def joined(self) -> None:
        self.counts["joined"] += 1
        self.join_times.append(time.monotonic())

    def ended(self, how: str, phones: int = 1) -> None:
        """``phones`` connections ended, ``how`` is "dropped" (not by us) or "left" (we closed them)."""
        self.counts[how] += phones
        self.end_times.extend([time.monotonic()] * phones)

    def take_delta(self) -> dict[str, Any]:
        """Everything since the last call, as plain data for a multiprocessing queue; resets the samples."""
        delta = {"counts": dict(self.counts), "refused": dict(self.refused), "errors": dict(self.errors),
                 "ack_ms": self.ack_ms, "update_ms": self.update_ms, "loop_lag_ms": self.loop_lag_ms,
                 "min_update_gap_ms": self.min_update_gap_ms, "join_times": self.join_times,
                 "end_times": self.end_times, "notes": sorted(self.notes)}
        self.counts, self.refused, self.errors = Counter(), Counter(), Counter()
        self.ack_ms, self.update_ms, self.loop_lag_ms, self.notes = [], [], [], set()
        self.join_times, self.end_times = [], []
        return delta

    def add(self, delta: dict[str, Any]) -> None:
        self.counts.update(delta["counts"])
        self.refused.update(delta["refused"])
        self.errors.update(delta["errors"])
        self.ack_ms.extend(delta["ack_ms"])
        self.update_ms.extend(delta["update_ms"])
        self.loop_lag_ms.extend(delta["loop_lag_ms"])
        gap = delta["min_update_gap_ms"]
        if gap is not None:
            self.min_update_gap_ms = gap if self.min_update_gap_ms is None else min(self.min_update_gap_ms, gap)
        self.join_times.extend(delta["join_times"])
        self.end_times.extend(delta["end_times"])
        self.notes.update(delta["notes"])
        self.peak_seen = max(self.peak_seen, self.connected)

    @property
    def connected(self) -> int:
        return self.counts["joined"] - self.counts["left"] - self.counts["dropped"]

    def peak_connected(self) -> int:
        """The most phones connected at one instant, from every join and end time (sorted once: for
        the figures at the end, not for the live table)."""
        ends, peak, now, e = sorted(self.end_times), 0, 0, 0
        for joined in sorted(self.join_times):
            while e < len(ends) and ends[e] < joined:  # an end at the same instant counts after the join
                now, e = now - 1, e + 1
            now += 1
            peak = max(peak, now)
        return peak

    def figures(self, phones_wanted: int) -> dict[str, Any]:
        c = self.counts
        return {
            "phones_wanted": phones_wanted, "phones_connected": self.peak_connected(),
            "phones_at_end": max(0, self.connected), "refused": dict(self.refused),
            "connect_failed": c["connect_failed"], "dropped": c["dropped"],
            "submits": c["submits"], "acks": c["acks"], "errors": dict(self.errors), "lost": c["lost"],
            "recommends": c["recommends"], "feed_messages": c["feed_messages"], "updates": c["updates"],
            "ack_ms": summary(self.ack_ms), "update_ms": summary(self.update_ms),
            "load_loop_lag_ms": summary(self.loop_lag_ms),
            "min_update_gap_ms": None if self.min_update_gap_ms is None else round(self.min_update_gap_ms, 1),
            "notes": sorted(self.notes),
        }


def verdict(figures: dict[str, Any]) -> tuple[bool, str]:
    """One line a crew can act on, and whether the night held (nothing lost, dropped or refused)."""
    ack, update = figures["ack_ms"], figures["update_ms"]
    text = (f"holds {figures['phones_connected']} phones: ack p99 {_ms(ack['p99'])}, "
            f"update p99 {_ms(update['p99'])}, {figures['lost']} lost")
    problems = []
    refused = sum(figures["refused"].values())
    if refused:
        problems.append(f"{refused} phones refused ({_by_code(figures['refused'])})")
    if figures["connect_failed"]:
        problems.append(f"{figures['connect_failed']} phones could not connect")
    if figures["dropped"]:
        problems.append(f"{figures['dropped']} phones dropped mid-run")
    errors = sum(figures["errors"].values())
    if errors:
        problems.append(f"{errors} submissions refused ({_by_code(figures['errors'])})")
    held = not problems and figures["lost"] == 0 and figures["phones_connected"] == figures["phones_wanted"]
    return held, text + ("; " + "; ".join(problems) if problems else "")


def _by_code(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {code}" for code, n in counts.items())


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} ms"
