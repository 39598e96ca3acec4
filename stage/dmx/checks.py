"""What a show's ``dmx:`` section must satisfy beyond each field's range: unique names, a known type for each
fixture, no slot patched twice, universes a node carries, looks and light cues that name real fixtures and
parameters with levels in range. Each problem is ``(loc, message)``, so the loader shows it at file:line:column."""

from __future__ import annotations

import ipaddress
import socket
import threading
from pathlib import Path
from typing import Any

from stage.dmx.patch import BUILT_IN_TYPES, fixture_channels
from stage.errors import StageError
from stage.show.cues import GroupCue, LightCue
from stage.show.dmx import UNIVERSES, DmxSection, Levels
from stage.show.models import Show

Loc = tuple[Any, ...]
RESOLVE_SECONDS = 2.0  # `stage check` waits this long for a node's name; a venue's DNS answers in milliseconds


def problems(show: Show, base: Path, resolve_nodes: bool = False) -> list[tuple[Loc, str]]:
    errors: list[tuple[Loc, str]] = []
    lights = list(_light_cues(show.cues, ("cues",)))
    if show.dmx is None:
        errors += [(loc + ("type",), "a light cue needs a 'dmx:' section (nodes, fixtures, looks)")
                   for _, loc in lights]
        if show.panic.lights == "blackout":
            errors.append((("panic", "lights"), "panic.lights: blackout needs a 'dmx:' section"))
        return errors
    dmx = show.dmx
    errors += _node_errors(dmx, resolve_nodes)
    params, errors_of_patch = _patch_errors(dmx, base)
    errors += errors_of_patch
    groups = {"all": tuple(params), **dmx.groups}
    for name, members in dmx.groups.items():
        if name == "all" or name in params:
            errors.append((("dmx", "groups", name), f"the group '{name}' has the name of a fixture or of 'all'"))
        for index, member in enumerate(members):
            if member not in params:
                errors.append((("dmx", "groups", name, index),
                               f"no fixture named '{member}' (fixtures: {sorted(params)})"))
    for look, levels in dmx.looks.items():
        errors += _level_errors(levels, ("dmx", "looks", look), params, groups)
    for cue, loc in lights:
        if cue.look is not None and cue.look not in dmx.looks:
            errors.append((loc + ("look",), f"no look named '{cue.look}' (looks: {sorted(dmx.looks)})"))
        errors += _level_errors(cue.levels, loc + ("levels",), params, groups)
    return errors


def _light_cues(cues: tuple, loc: Loc):
    for index, cue in enumerate(cues):
        if isinstance(cue, LightCue):
            yield cue, loc + (index,)
        if isinstance(cue, GroupCue):
            yield from _light_cues(cue.cues, loc + (index, "cues"))


def _node_errors(dmx: DmxSection, resolve_nodes: bool) -> list[tuple[Loc, str]]:
    errors: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for index, node in enumerate(dmx.nodes):
        if node.name in seen:
            errors.append((("dmx", "nodes", index, "name"), f"duplicate name '{node.name}'"))
        seen.add(node.name)
        low, high = UNIVERSES[node.protocol]
        for position, universe in enumerate(node.universes):
            if not low <= universe <= high:
                errors.append((("dmx", "nodes", index, "universes", position),
                               f"universe {universe} is out of range for {node.protocol} ({low}-{high})"))
        if resolve_nodes and node.address is not None:
            problem = unresolvable(node.address)
            if problem:
                errors.append((("dmx", "nodes", index, "address"), problem))
    return errors


def unresolvable(address: str) -> str | None:
    """Why ``address`` gives no IPv4 address (None: it does), waiting at most RESOLVE_SECONDS."""
    try:
        ipaddress.IPv4Address(address)
        return None
    except ValueError:
        pass
    answer: list[BaseException | None] = []

    def resolve() -> None:
        try:
            socket.getaddrinfo(address, None, socket.AF_INET, socket.SOCK_DGRAM)
            answer.append(None)
        except OSError as exc:
            answer.append(exc)

    # A daemon thread: a resolver that never answers must not keep `stage check` from exiting after its wait
    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(RESOLVE_SECONDS)
    if not answer:
        return f"the node address '{address}' did not resolve within {RESOLVE_SECONDS:g} s"
    if isinstance(answer[0], OSError):
        return f"the node address '{address}' does not resolve ({answer[0].strerror or answer[0]})"
    return None


def _patch_errors(dmx: DmxSection, base: Path) -> tuple[dict[str, set[str]], list[tuple[Loc, str]]]:
    """Each fixture's parameters (by name), and what is wrong with the patch."""
    errors: list[tuple[Loc, str]] = []
    carried = {u for node in dmx.nodes for u in node.universes}
    taken: dict[tuple[int, int], str] = {}
    params: dict[str, set[str]] = {}
    for name, kind in dmx.fixture_types.items():
        if name in BUILT_IN_TYPES:
            errors.append((("dmx", "fixture_types", name),
                           f"'{name}' is a built-in fixture type; name yours otherwise"))
    for index, fixture in enumerate(dmx.fixtures):
        here: Loc = ("dmx", "fixtures", index)
        if fixture.name in params:
            errors.append((here + ("name",), f"duplicate name '{fixture.name}'"))
            continue
        if fixture.type is not None and fixture.type not in BUILT_IN_TYPES and fixture.type not in dmx.fixture_types:
            types = sorted({*BUILT_IN_TYPES, *dmx.fixture_types})
            errors.append((here + ("type",), f"no fixture type '{fixture.type}' (types: {', '.join(types)})"))
            continue
        try:
            channels, _ = fixture_channels(dmx, fixture, base)
        except StageError as exc:
            field = getattr(exc, "field", "ofl")
            errors.append((("dmx", "fixture_types", fixture.type, field), exc.message))
            continue
        problem = _channel_list_problem(channels)
        if problem:
            errors.append((here + ("channels" if fixture.channels else "type",), problem))
        params[fixture.name] = {c for c in channels if not c.endswith("_fine")}
        if fixture.universe not in carried:
            errors.append((here + ("universe",), f"no node sends universe {fixture.universe} "
                           f"(the nodes carry {sorted(carried)})"))
        last = fixture.address + len(channels) - 1
        if last > 512:
            errors.append((here + ("address",), f"{len(channels)} channels from address {fixture.address} end at "
                           f"{last}, past the universe's 512"))
            continue
        clashes = sorted({taken[(fixture.universe, s)] for s in range(fixture.address, last + 1)
                          if (fixture.universe, s) in taken})
        if clashes:
            errors.append((here + ("address",), f"slots {fixture.address}-{last} of universe {fixture.universe} "
                           f"overlap {', '.join(clashes)}"))
        for slot in range(fixture.address, last + 1):
            taken.setdefault((fixture.universe, slot), fixture.name)
    return params, errors


def _channel_list_problem(channels: tuple[str, ...]) -> str | None:
    repeated = sorted({c for c in channels if channels.count(c) > 1})
    if repeated:
        return f"a fixture carries each parameter once; repeated: {', '.join(repeated)}"
    lonely = [c for c in channels if c.endswith("_fine") and c[:-5] not in channels]
    if lonely:
        return f"{lonely[0]} needs its coarse channel {lonely[0][:-5]}"
    return None


def _level_errors(levels: Levels, loc: Loc, params: dict[str, set[str]], groups: dict[str, tuple[str, ...]]
                  ) -> list[tuple[Loc, str]]:
    errors: list[tuple[Loc, str]] = []
    for target, values in levels.items():
        if target not in params and target not in groups:
            errors.append((loc + (target,), f"no fixture or group named '{target}'"))
            continue
        members = [m for m in groups.get(target, (target,)) if m in params]
        for param, value in values.items():
            having = [m for m in members if param in params[m]]
            lacking = [m for m in members if param not in params[m]]
            if not having or (lacking and target != "all"):
                without = lacking or members
                verb = "has" if len(without) == 1 else "have"
                errors.append((loc + (target, param), f"{' and '.join(without)} {verb} no '{param}' "
                               f"(it has {', '.join(sorted(params[without[0]]))})"))
                continue
            high = 255 if param.startswith("raw:") else 100
            if not 0 <= value <= high:
                errors.append((loc + (target, param), f"level {value:g} is out of range (0-{high})"))
    return errors
