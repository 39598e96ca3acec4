"""What a load rehearsal leaves behind, and removing it. No Flask, no Socket.IO.

Simulated phones join with ``simulated: true`` and their participant row says so. Removing a rehearsal
deletes everything they made (records, comments on them, recommendations, volunteers, participants)
in one transaction. The audit log is append-only, so the cleanup is itself audited instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from stage.records.store import Connection, Store

log = logging.getLogger(__name__)

# The rehearsal's records: made by simulated participants, or comments (records) on those.
_SIM_PARTICIPANTS = "SELECT id FROM participants WHERE simulated = 1"
_SIM_RECORDS = f"SELECT id FROM records WHERE participant_id IN ({_SIM_PARTICIPANTS})"


def simulated_counts(store: Store) -> dict[str, int]:
    """How much of the rehearsal is still in the store (what a cleanup would remove)."""
    rows = store.query(
        f"""SELECT (SELECT COUNT(*) FROM participants WHERE simulated = 1) AS participants,
                   (SELECT COUNT(*) FROM records WHERE participant_id IN ({_SIM_PARTICIPANTS})) AS records,
                   (SELECT COUNT(*) FROM recommendations
                    WHERE participant_id IN ({_SIM_PARTICIPANTS})) AS recommendations,
                   (SELECT COUNT(*) FROM volunteers WHERE participant_id IN ({_SIM_PARTICIPANTS})) AS volunteers""")
    return dict(rows[0])


def cleanup(store: Store, actor: str) -> dict[str, Any]:
    """Delete everything simulated participants made; return the counts and the removed record ids."""
    with store.transaction() as db:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY)")
        db.execute("DELETE FROM doomed")
        db.execute(f"INSERT INTO doomed {_SIM_RECORDS}")
        # Comments anyone wrote on a simulated record go with it (a comment has its record as source).
        db.execute("""INSERT INTO doomed
                      SELECT r.id FROM records r JOIN record_sources s ON s.record_id = r.id
                      WHERE r.kind = 'comment' AND s.source_id IN (SELECT id FROM doomed)
                      ON CONFLICT DO NOTHING""")
        removed = [row[0] for row in db.execute("SELECT id FROM doomed")]
        counts = _delete(db)
        db.execute("DELETE FROM doomed")
        Store.audit(db, actor, "rehearsal_cleanup", None, **counts)
    log.info("rehearsal cleaned up by %s: %s", actor, ", ".join(f"{n} {what}" for what, n in counts.items()))
    return {"removed": counts, "records": removed}


def _delete(db: Connection) -> dict[str, int]:
    doomed = "SELECT id FROM doomed"
    doomed_ids = {row[0] for row in db.execute(doomed)}
    sim = _SIM_PARTICIPANTS
    counts: dict[str, int] = {}
    counts["recommendations"] = db.execute(
        f"DELETE FROM recommendations WHERE participant_id IN ({sim}) OR record_id IN ({doomed})").rowcount
    counts["volunteers"] = db.execute(
        f"DELETE FROM volunteers WHERE participant_id IN ({sim}) OR story_id IN ({doomed})").rowcount
    # Crew-made takes and remixes built on a rehearsal record stay; they lose that link only.
    db.execute(f"UPDATE takes SET story_id = NULL WHERE story_id IN ({doomed})")
    db.execute(f"UPDATE takes SET performer_id = NULL WHERE performer_id IN ({sim})")
    db.execute(f"DELETE FROM record_sources WHERE record_id IN ({doomed}) OR source_id IN ({doomed})")
    counts["comments"] = db.execute(f"DELETE FROM records WHERE kind = 'comment' AND id IN ({doomed})").rowcount
    counts["records"] = db.execute(f"DELETE FROM records WHERE id IN ({doomed})").rowcount
    counts["participants"] = db.execute("DELETE FROM participants WHERE simulated = 1").rowcount
    # A display or "chosen" pointer to a removed record would show nothing: forget those pointers.
    for key, value in db.execute("SELECT key, value FROM state WHERE key LIKE 'chosen.%'").fetchall():
        if json.loads(value) in doomed_ids:
            db.execute("DELETE FROM state WHERE key = ?", (key,))
    return counts
