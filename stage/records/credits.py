"""Credits, derived from lineage: every contributor with their roles. No Flask.

Roles come from what a record is: a story's author is its writer, a drawing's its illustrator, a
photo's its photographer, a clip's its clip maker, a take's performer performed it and its rig was the
camera, a remix's author is its remixer. Only records lineage may show count (see
:mod:`stage.records.lineage`), so a performer who withdrew consent is never credited for that take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stage.records import lineage as lineage_module
from stage.records.lineage import Lineage, Node, Queryable

# The order of a credits roll: the people who wrote come first, as on a film's roll.
ROLES = ("writer", "illustrator", "photographer", "clip maker", "performer", "camera", "remixer")
_BY_KIND = {"story": "writer", "drawing": "illustrator", "photo": "photographer", "clip": "clip maker",
            "remix": "remixer"}


@dataclass
class _Contributor:
    name: str
    roles: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    first: float = float("inf")


def roll(store: Queryable) -> list[dict[str, Any]]:
    """Everyone who made something shown tonight, in credits order (first role, then most records)."""
    lineage = lineage_module.load(store)
    return _ordered(_collect(lineage, [i for i in lineage.nodes if lineage.visible(i)]))


def for_record(store: Queryable, record_id: str) -> list[dict[str, Any]]:
    """Everyone behind one record: its author and, transitively, the authors of all its sources."""
    lineage = lineage_module.load(store)
    lineage.graph(record_id)  # raises NotFound for an unknown or withheld record
    return _ordered(_collect(lineage, lineage.ancestors(record_id)))


def for_sources(store: Queryable, source_ids: list[str]) -> list[dict[str, Any]]:
    """Credits of a remix not yet stored (a render the crew is looking at)."""
    lineage = lineage_module.load(store)
    ids = dict.fromkeys(i for s in source_ids for i in lineage.ancestors(s))
    return _ordered(_collect(lineage, list(ids)))


def _collect(lineage: Lineage, ids: list[str]) -> dict[tuple[str, str], _Contributor]:
    people: dict[tuple[str, str], _Contributor] = {}
    for record_id in ids:
        node = lineage.nodes[record_id]
        for key, name, role in _credits_of(node):
            person = people.setdefault(key, _Contributor(name))
            person.roles.add(role)
            person.records.add(record_id)
            person.first = min(person.first, node.created_at)
    return people


def _credits_of(node: Node) -> list[tuple[tuple[str, str], str, str]]:
    """(who, display name, role) for one record. People are keyed by participant id or crew/rig name."""
    if node.kind == "take" and node.take is not None:
        out = [(("rig", node.take["rig"]), node.take["rig"], "camera")]
        if node.take["performer_id"]:
            out.append((("participant", node.take["performer_id"]), node.take["performer"] or "a volunteer",
                        "performer"))
        return out
    role = _BY_KIND.get(node.kind)
    if role is None:
        return []
    key = ("participant", node.participant_id) if node.participant_id else ("crew", node.crew_author or "crew")
    return [(key, node.author, role)]


def _ordered(people: dict[tuple[str, str], _Contributor]) -> list[dict[str, Any]]:
    def order(person: _Contributor) -> tuple:
        first_role = min(ROLES.index(r) for r in person.roles)
        return (first_role, -len(person.records), person.first, person.name.casefold())

    return [{"name": p.name, "roles": [r for r in ROLES if r in p.roles], "records": len(p.records)}
            for p in sorted(people.values(), key=order)]
