"""Figures of a night for the post-show report: when phones joined, what they sent, how fast the
moderators decided, what the audience recommended. Rehearsal phones (``simulated``) are left out.

Reads only, from a ``Store`` or an export's snapshot; the report (``stage.archive.report``) draws them.
"""

from __future__ import annotations

from stage.records.lineage import Queryable


def phones_joined(store: Queryable) -> list[float]:
    """When each real phone joined."""
    return [r["created_at"] for r in store.query("SELECT created_at FROM participants WHERE simulated = 0")]


def audience_submissions(store: Queryable) -> list[tuple[str, float]]:
    """(kind, created_at) of every record a real phone sent."""
    return [(r["kind"], r["created_at"]) for r in store.query(
        "SELECT r.kind, r.created_at FROM records r LEFT JOIN participants p ON p.id = r.participant_id"
        " WHERE r.participant_id IS NOT NULL AND p.simulated = 0")]


def decision_delays(store: Queryable) -> list[float]:
    """Seconds from a phone's submission to each moderator's approve or reject of it."""
    return [r["seconds"] for r in store.query(
        "SELECT a.at - r.created_at AS seconds FROM audit a JOIN records r ON r.id = a.subject"
        " WHERE a.action IN ('approve', 'reject') AND r.participant_id IS NOT NULL")]


def recommendation_counts(store: Queryable) -> list[tuple[str, int]]:
    """(record id, recommendations) of every recommended record, most recommended first."""
    return [(r["record_id"], r["n"]) for r in store.query(
        "SELECT record_id, COUNT(*) AS n FROM recommendations GROUP BY record_id ORDER BY n DESC")]
