"""A read-only copy of a data directory's database, taken while ``stage serve`` may be using it.

The store holds an exclusive flock on the data directory, so tools never open a ``Store`` there:
they open the SQLite file read-only and copy it with SQLite's backup API (a consistent snapshot
even while the server writes; WAL readers do not block the writer).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from stage.errors import StageError


class SnapshotError(StageError):
    code = "no_data"


class Snapshot:
    """The database of ``data_dir`` as it was when this was made, in memory or in ``copy_to``."""

    def __init__(self, data_dir: Path, copy_to: Path | None = None) -> None:
        path = Path(data_dir) / "stage.db"
        if not path.is_file():
            raise SnapshotError(f"{data_dir} holds no Stage data (no stage.db)")
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            self.db = sqlite3.connect(str(copy_to) if copy_to else ":memory:")
            source.backup(self.db)
        finally:
            source.close()
        if copy_to:  # the copy inherits WAL mode; one self-contained file is what an archive holds
            self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.row_factory = sqlite3.Row
        self.data_dir = Path(data_dir)

    def query(self, sql: str, params: tuple | dict = ()) -> list[Any]:
        return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        self.db.close()
