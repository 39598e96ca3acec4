"""Credits, derived from lineage: every person who made a record, each with what they did. No Flask.

One fixed vocabulary of roles, the same in a record's ``credits``, the credits roll and the archive:
a story's author ``wrote`` it, a drawing's ``drew`` it, a photo's ``photographed`` it, a clip's
``filmed`` it; a take's performer ``performed`` and the camera operator of its rig (``rigs[].operator``
in the show, or set on the crew console) ``filmed``; the crew's own role in a remix is ``remix``. Only
people are credited: a rig's or a recipe's name never is, and a take nobody was operating credits its
camera to nobody. Only records lineage may show count (see :mod:`stage.records.lineage`), so a
performer who withdrew consent is never credited for that take. Pages word the roles through the
catalog (``audience_web/static/js/lineage.js``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stage.records import lineage as lineage_module
from stage.records.lineage import Lineage, Node, Queryable
from stage.records.models import Record

# The order of a credits roll: the people who wrote come first, as on a film's roll.
ROLES = ("wrote", "drew", "photographed", "performed", "filmed", "remix")
_BY_KIND = {"story": "wrote", "drawing": "drew", "photo": "photographed", "clip": "filmed", "remix": "remix",
            "comment": "wrote"}
CREW = "Stage crew"  # how the crew is credited for what it made (remixes; takes nobody performed)


@dataclass
class _Contributor:
    name: str
    roles: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    first: float = float("inf")


def roll(store: Queryable) -> list[dict[str, Any]]:
    """Everyone who made something shown tonight, in credits order (first role, then most records)."""
    return roll_of(lineage_module.load(store))


def roll_of(lineage: Lineage) -> list[dict[str, Any]]:
    """The credits roll of a loaded lineage (a caller that already read the night reads it once)."""
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


def of_records(store: Queryable, records: list[Record]) -> dict[str, list[dict[str, str]]]:
    """The ``credits`` of records on the wire, by record id: ``[{name, role}]`` in roll order, one entry per
    person and role. Two queries for all of them (a wall, a feed page), however big the night."""
    lineage = lineage_module.load_upstream(store, [r.id for r in records])
    out = {}
    for record in records:
        if record.id in lineage.nodes:
            out[record.id] = in_lineage(lineage, record.id)
        else:  # a comment: its author wrote it; the record it is on is not its source
            out[record.id] = _listed([(("record", record.id), record.author, role) for role in _role_of(record.kind)])
    return out


def of_record(store: Queryable, record: Record) -> list[dict[str, str]]:
    return of_records(store, [record])[record.id]


def in_lineage(lineage: Lineage, record_id: str) -> list[dict[str, str]]:
    """One record's credits in a loaded lineage: its own always (whoever is shown the record may see who made
    it: a moderator a pending one), its sources' only while they may be shown."""
    shown = [record_id] + [i for i in lineage.ancestors(record_id) if i != record_id]
    return _listed([c for i in shown for c in credited(lineage.nodes[i])])


def _role_of(kind: str) -> list[str]:
    return [_BY_KIND[kind]] if kind in _BY_KIND else []


def _listed(found: list[tuple[tuple[str, str], str, str]]) -> list[dict[str, str]]:
    unique = dict.fromkeys((key, name, role) for key, name, role in found)
    ordered = sorted(unique, key=lambda c: ROLES.index(c[2]))  # stable: nearest the record first within a role
    return [{"name": name, "role": role} for _key, name, role in ordered]


def _collect(lineage: Lineage, ids: list[str]) -> dict[tuple[str, str], _Contributor]:
    people: dict[tuple[str, str], _Contributor] = {}
    for record_id in ids:
        node = lineage.nodes[record_id]
        for key, name, role in credited(node):
            person = people.setdefault(key, _Contributor(name))
            person.roles.add(role)
            person.records.add(record_id)
            person.first = min(person.first, node.created_at)
    return people


def credited(node: Node) -> list[tuple[tuple[str, str], str, str]]:
    """(who, display name, role) for one record. People are keyed by participant id or crew name."""
    if node.kind == "take" and node.take is not None:
        out = []
        if node.take["performer_id"]:
            out.append((("participant", node.take["performer_id"]), node.take["performer"] or "a volunteer",
                        "performed"))
        if node.take.get("operator"):  # the camera operator the take was slated with; none: nobody is credited
            out.append((("crew", node.take["operator"]), node.take["operator"], "filmed"))
        return out
    roles = _role_of(node.kind)
    if not roles:
        return []
    key = ("participant", node.participant_id) if node.participant_id else ("crew", node.crew_author or CREW)
    return [(key, node.author, roles[0])]


def _ordered(people: dict[tuple[str, str], _Contributor]) -> list[dict[str, Any]]:
    def order(person: _Contributor) -> tuple:
        first_role = min(ROLES.index(r) for r in person.roles)
        return (first_role, -len(person.records), person.first, person.name.casefold())

    return [{"name": p.name, "roles": [r for r in ROLES if r in p.roles], "records": len(p.records)}
            for p in sorted(people.values(), key=order)]
