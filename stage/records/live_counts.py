"""Counts of the night as it runs, for the metrics (``stage.metrics``): records by kind and status, and
cue fires from the audit log. Reads only; the post-show figures are ``stage.records.night_stats``."""

from __future__ import annotations

from collections.abc import Sequence

from stage.records.lineage import Queryable


def records_by_kind_and_status(store: Queryable) -> dict[tuple[str, str], int]:
    rows = store.query("SELECT kind, status, COUNT(*) AS n FROM records GROUP BY kind, status")
    return {(row["kind"], row["status"]): row["n"] for row in rows}


def last_audit_seq(store: Queryable) -> int:
    return store.query("SELECT COALESCE(MAX(seq), 0) AS seq FROM audit")[0]["seq"]


def actions_between(store: Queryable, after: int, upto: int, actions: Sequence[str]) -> dict[str, int]:
    """How many audit entries of each of ``actions`` lie in ``(after, upto]`` (a primary-key range: the
    audit log only grows, so a caller that keeps ``upto`` reads each entry once)."""
    marks = ", ".join("?" for _ in actions)
    rows = store.query(f"SELECT action, COUNT(*) AS n FROM audit WHERE seq > ? AND seq <= ? AND action IN ({marks})"
                       " GROUP BY action", (after, upto, *actions))
    return {row["action"]: row["n"] for row in rows}
