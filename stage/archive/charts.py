"""Charts for the archive with matplotlib (Agg: no display, works offline), returned as PNG bytes."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

KIND_COLOURS = {"story": "#4c72b0", "drawing": "#dd8452", "photo": "#55a868", "clip": "#c44e52", "take": "#8172b3",
                "remix": "#937860"}


def _empty(ax: Any, what: str) -> None:
    """Say so on a chart with nothing to draw, instead of an empty frame with meaningless axes."""
    ax.text(0.5, 0.5, f"no {what} tonight", ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def _minutes(times: list[float], start: float) -> list[float]:
    return [(t - start) / 60 for t in times]


def phones_over_time(joined: list[float], start: float) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3))
    minutes = sorted(_minutes(joined, start))
    ax.step(minutes, range(1, len(minutes) + 1), where="post", color="#4c72b0")
    ax.set(xlabel="minutes into the night", ylabel="phones joined", title="Phones over time")
    return _png(fig)


def submissions_per_minute(records: list[tuple[str, float]], start: float) -> bytes:
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for kind, at in records:
        per_kind[kind][int((at - start) // 60)] += 1
    fig, ax = plt.subplots(figsize=(8, 3))
    last = max((m for c in per_kind.values() for m in c), default=0)
    bottom = [0] * (last + 1)
    for kind, counts in sorted(per_kind.items()):
        heights = [counts.get(m, 0) for m in range(last + 1)]
        ax.bar(range(last + 1), heights, bottom=bottom, label=kind, color=KIND_COLOURS.get(kind, "#999"))
        bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set(xlabel="minute", ylabel="submissions", title="Submissions per minute by kind")
    if per_kind:
        ax.legend(loc="upper right", fontsize="small")
    return _png(fig)


def moderation_times(seconds: list[float]) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.set(xlabel="seconds from submission to decision", ylabel="records", title="Moderation times")
    if seconds:
        ax.hist(seconds, bins=20, color="#55a868")
    else:
        _empty(ax, "moderation decisions")
    return _png(fig)


def most_recommended(rows: list[tuple[str, int]]) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3 + 0.2 * len(rows)))
    labels = [label if len(label) <= 40 else label[:39] + "…" for label, _ in rows][::-1]
    ax.set(xlabel="recommendations", title="Most recommended records")
    if rows:
        ax.barh(labels, [n for _, n in rows][::-1], color="#dd8452")
    else:
        _empty(ax, "recommendations")
    return _png(fig)


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
        ax.text(x, y, f"{node['kind']}\n{(node['author'] or '')[:18]}", ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "fc": KIND_COLOURS.get(node["kind"], "#ddd"), "ec": "none", "alpha": 0.85},
                color="white")
    ax.set_xlim(-0.7, max(len(columns) - 1, 0) + 0.7)
    ax.set_ylim(-rows + 0.3, 0.7)
    ax.axis("off")
    ax.set_title(title)
    if not nodes:
        _empty(ax, "records")
    return _png(fig)
