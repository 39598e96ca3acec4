"""Charts for the archive with matplotlib (Agg: no display, works offline).

The report's charts carry numbers only: counts on integer axes that start at zero, and the time of night as
clock times (21:15, never "−0.4 minute"). Names and words are in the page's HTML, where the browser draws
emoji and every script; matplotlib has no colour emoji (a name with one drew a box). They are SVG with their
text kept as text, so they print sharp and their tick labels can be read back. ``lineage.png`` (beside the
report in the archive) still draws authors' names: characters its font cannot draw are left out of it.
"""

from __future__ import annotations

import io
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402  (after choosing the headless backend)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from stage.records.night_facts import AUDIENCE_KINDS, bucket_start  # noqa: E402

# Okabe and Ito's palette: told apart with the common colour blindnesses, and in greyscale print by order.
KIND_COLOURS = {"story": "#0072B2", "drawing": "#E69F00", "photo": "#009E73", "clip": "#CC79A7", "take": "#D55E00",
                "remix": "#56B4E9"}
INK, GRID, PHONES = "#2b2a33", "#e4e2ea", "#5b4fc4"
STYLE = {"svg.fonttype": "none", "svg.hashsalt": "stage", "font.family": ["DejaVu Sans"], "font.size": 10,
         "axes.edgecolor": "#9a98a6", "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "axes.grid.axis": "y",
         "grid.color": GRID, "grid.linewidth": 0.8, "axes.axisbelow": True}
TICK_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180)
MAX_TICKS = 9


def _svg(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def _local(at: float) -> datetime:
    return datetime.fromtimestamp(at)  # naive local time: the clock on the venue's wall, as the page's times


def _counts_axis(ax: Any, top: float, ticks: int = 6) -> None:
    """Whole numbers from zero: no "1.5 phones", no negative counts, and 0..1 for a night with nothing. Steps
    of 1, 2, 5 or 10 (times a power of ten): 0, 20, 40, 60 phones, not 0, 8, 16 ... 64."""
    ax.yaxis.set_major_locator(MaxNLocator(nbins=ticks, integer=True, min_n_ticks=2, steps=[1, 2, 5, 10]))
    ax.set_ylim(0, max(1.0, top * 1.12))


def _clock_axis(ax: Any, first: float, last: float) -> None:
    span = max(last - first, 60)
    step = next((m for m in TICK_MINUTES if span / 60 / m <= MAX_TICKS), TICK_MINUTES[-1])
    if step < 60:
        ax.xaxis.set_major_locator(mdates.MinuteLocator(byminute=range(0, 60, step)))
    else:
        ax.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, step // 60)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_xlim(_local(first), _local(last))


def night(contributions: list[tuple[str, float]], joins: list[float], start: float, end: float,
          minutes: int) -> bytes:
    """Contributions per ``minutes`` by kind (stacked bars) over phones joined so far, on one clock."""
    first = bucket_start(start, minutes)
    last = bucket_start(end, minutes) + minutes * 60
    # A short night (a rehearsal, a test) still reads as a few bars' worth of clock, not one bar filling the width.
    last = max(last, first + 5 * minutes * 60)
    with plt.rc_context(STYLE):
        fig, (bars, phones) = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True,
                                           gridspec_kw={"height_ratios": [3, 2], "hspace": 0.18})
        per_kind: dict[str, Counter] = defaultdict(Counter)
        for kind, at in contributions:
            per_kind[kind][bucket_start(at, minutes)] += 1
        slots = sorted({slot for counts in per_kind.values() for slot in counts})
        below = Counter()
        width = minutes / (24 * 60) * 0.86  # matplotlib dates are in days
        for kind in AUDIENCE_KINDS:
            if kind not in per_kind:
                continue
            heights = [per_kind[kind][slot] for slot in slots]
            bars.bar([_local(slot + minutes * 30) for slot in slots], heights, width=width,
                     bottom=[below[slot] for slot in slots], color=KIND_COLOURS[kind], label=kind)
            for slot, height in zip(slots, heights):
                below[slot] += height
        bars.set_ylabel(f"contributions\nper {minutes} min" if minutes > 1 else "contributions\nper minute")
        _counts_axis(bars, max(below.values(), default=0))
        xs = [_local(first)] + [_local(at) for at in joins] + [_local(max(end, joins[-1] if joins else end))]
        ys = [0] + list(range(1, len(joins) + 1)) + [len(joins)]
        phones.step(xs, ys, where="post", color=PHONES, linewidth=2)
        phones.fill_between(xs, ys, step="post", color=PHONES, alpha=0.12)
        phones.set_ylabel("phones joined")
        _counts_axis(phones, len(joins), ticks=4)
        _clock_axis(phones, first, last)
        fig.align_ylabels([bars, phones])
        return _svg(fig)


def waits(seconds: list[float]) -> bytes:
    """How long phones waited for a moderator: records (whole numbers) per wait, in seconds or minutes."""
    longest = max(seconds, default=0)
    in_minutes = longest > 300
    values = [s / 60 for s in seconds] if in_minutes else list(seconds)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6, 2.6))
        top = max(values, default=0)
        step = next((b for b in (1, 2, 5, 10, 15, 30, 60, 120, 300) if top / b <= 20), 600)
        edges = [step * i for i in range(int(top // step) + 2)]
        counts, _, _ = ax.hist(values, bins=edges, color=KIND_COLOURS["photo"], rwidth=0.88)
        ax.set_xlim(0, edges[-1])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
        ax.set_xlabel("minutes until a moderator decided" if in_minutes else "seconds until a moderator decided")
        ax.set_ylabel("records")
        _counts_axis(ax, max(counts, default=0))
        return _svg(fig)


@lru_cache(maxsize=1)
def _drawable_characters() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str) -> str:
    """``text`` without what the chart's font has no glyph for (emoji, scripts it lacks): left out, not a box."""
    have = _drawable_characters()
    kept = "".join(c for c in unicodedata.normalize("NFC", text) if ord(c) in have or c in " \n")
    return " ".join(kept.split()) or "…"


def lineage_picture(graph: dict[str, Any], title: str = "Lineage") -> bytes:
    """Records as boxes in columns by depth (sources left, what was made from them right), arrows between."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    sources: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        sources[edge["to"]].append(edge["from"])
    depth: dict[str, int] = {}

    def level(node_id: str, seen: frozenset = frozenset()) -> int:
        if node_id not in depth:
            below = [level(s, seen | {node_id}) for s in sources[node_id] if s not in seen]
            depth[node_id] = 1 + max(below, default=-1)
        return depth[node_id]

    columns: dict[int, list[str]] = defaultdict(list)
    for node_id in nodes:
        columns[level(node_id)].append(node_id)
    rows = max((len(c) for c in columns.values()), default=1)
    fig, ax = plt.subplots(figsize=(2.6 * max(len(columns), 1) + 1, 0.7 * rows + 1.5))
    where = {node_id: (x, -y) for x, ids in columns.items() for y, node_id in enumerate(ids)}
    for edge in graph["edges"]:
        if edge["from"] in where and edge["to"] in where:
            ax.annotate("", xy=where[edge["to"]], xytext=where[edge["from"]],
                        arrowprops={"arrowstyle": "->", "color": "#888", "shrinkA": 28, "shrinkB": 28})
    for node_id, (x, y) in where.items():
        node = nodes[node_id]
        ax.text(x, y, f"{node['kind']}\n{drawable(node['author'] or '')[:18]}", ha="center", va="center",
                fontsize=8, color="white",
                bbox={"boxstyle": "round", "fc": KIND_COLOURS.get(node["kind"], "#ddd"), "ec": "none", "alpha": 0.9})
    ax.set_xlim(-0.7, max(len(columns) - 1, 0) + 0.7)
    ax.set_ylim(-rows + 0.3, 0.7)
    ax.axis("off")
    ax.set_title(drawable(title))
    if not nodes:
        ax.text(0.5, 0.5, "no records tonight", ha="center", va="center", transform=ax.transAxes, color="#666")
    return _png(fig)
