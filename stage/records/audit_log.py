"""Reading the audit log, and the entries written on their own.

Most entries are written inside the transaction that makes the change (``Store.audit``); an OSC
message or an export begun from the console has no such transaction, so those open their own.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from stage.records.store import Store

COLUMNS = ("seq", "at", "actor", "action", "subject", "detail")


def entries(store: Store, action: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest entries first, optionally only one action."""
    where, params = ("WHERE action = ?", (action,)) if action else ("", ())
    rows = store.query(f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY seq DESC LIMIT ?", (*params, limit))
    return [{**dict(row), "detail": json.loads(row["detail"]) if row["detail"] else None} for row in rows]


def osc_sent(store: Store, target: str, message: str) -> None:
    """Every OSC message that left Stage goes in the audit log (``OscSender``'s ``on_sent`` calls this)."""
    with store.transaction() as db:
        Store.audit(db, "osc", "osc_sent", target, message=message)


def archive_started(store: Store, actor: str, file: str) -> None:
    """An export of the night begun from the host console (stage/web/night_archive.py)."""
    with store.transaction() as db:
        Store.audit(db, actor, "export", file)


def to_csv(store: Store, action: str | None = None) -> str:
    """The whole log (or one action) oldest first, as CSV for a spreadsheet."""
    where, params = ("WHERE action = ?", (action,)) if action else ("", ())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in store.query(f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY seq", params):
        writer.writerow([_safe(value) for value in row])
    return out.getvalue()


def _safe(value: Any) -> Any:
    """Defuse spreadsheet formulas in user-made text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
