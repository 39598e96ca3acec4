"""Sizes and durations worded for a phone user ("31 MB", "1 min 30 s")."""

from __future__ import annotations

MEGABYTE = 1024 * 1024


def describe_size(n_bytes: int) -> str:
    """``31 MB`` for big files, ``0.4 MB`` for small ones, never ``0 MB`` for a non-empty file."""
    megabytes = n_bytes / MEGABYTE
    if megabytes >= 10:
        return f"{megabytes:.0f} MB"
    if megabytes >= 0.1:
        return f"{megabytes:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(n_bytes / 1024))} KB"


def describe_seconds(seconds: float) -> str:
    """``45 s``, ``2 min`` or ``1 min 30 s``: how long a clip is, rounded to the second."""
    whole = max(0, round(seconds))
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
