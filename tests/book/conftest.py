"""Fixtures of the book's tests: a night made through the store API (tests/book/nights.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.book.nights import StoreNight


@pytest.fixture
def store_night(tmp_path: Path) -> Iterator[StoreNight]:
    night = StoreNight(tmp_path / "data")
    yield night
    night.close()
