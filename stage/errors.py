"""The one exception tree of Stage.

Every error a user can cause carries a stable ``code`` (for acks and logs) and a plain message.
"""

from __future__ import annotations

from dataclasses import dataclass


class StageError(Exception):
    """Base of every error Stage raises on purpose."""

    code = "stage_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_ack(self) -> dict:
        return {"ok": False, "error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class ShowProblem:
    """One problem in a show file, located as ``file:line:column: field.path: message``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ShowFileError(StageError):
    """A show file that does not parse or validate. It carries every problem found."""

    code = "show_file"

    def __init__(self, problems: list[ShowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InvalidInput(StageError):
    """A payload or value from a client that Stage refuses (the ack names the reason)."""

    code = "invalid"


class NotFound(StageError):
    code = "not_found"


class Forbidden(StageError):
    code = "forbidden"


class Conflict(StageError):
    code = "conflict"


class RateLimited(StageError):
    code = "rate_limited"


class CueError(StageError):
    """A cue that cannot fire (its part is missing or its target is unknown)."""

    code = "cue_error"


class StoreError(StageError):
    code = "store"
