"""Fixtures for the DMX tests: receivers and outputs that are always closed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stage.dmx.output import DmxOutput, thread_spawn
from stage.show.dmx import DmxNode
from tests.dmx.receivers import Receiver
from tests.dmx.rig import CID, NAME, RATE, Driver, Source


@pytest.fixture
def receivers() -> Iterator[Callable[..., Any]]:
    made: list[Receiver] = []

    def make(kind: type[Receiver], port: int = 0) -> Receiver:
        rx = kind(port)
        made.append(rx)
        return rx

    yield make
    for rx in made:
        rx.close()


@pytest.fixture
def rig(receivers: Callable[..., Any]) -> Iterator[Callable[..., tuple[DmxOutput, Driver, list[dict]]]]:
    """``rig(nodes, source, *receivers, **options)``: an output on a Driver's clock (which drains those receivers
    after each tick) and the list its on_status calls fill. Outputs close before the receivers do."""
    outputs: list[DmxOutput] = []

    def make(nodes: list[DmxNode], source: Source, *rxs: Receiver, **options: Any):
        driver, statuses = Driver(), []
        driver.receivers = list(rxs)
        options.setdefault("clock", driver.clock)
        out = DmxOutput(nodes, rate=RATE, source=source, cid=CID, default_source_name=NAME, spawn=thread_spawn,
                        random_sequence=False, on_status=statuses.append, **options)
        driver.out = out
        outputs.append(out)
        return out, driver, statuses

    yield make
    for out in outputs:
        out.close()
