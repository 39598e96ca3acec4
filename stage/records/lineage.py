"""The lineage graph: who made what from what, through ``record_sources``. No Flask.

Only what may be shown counts: approved records, never rehearsal phones (``simulated``), never a
deleted take or a take whose performer withdrew consent, and never a remix built (transitively) on
something withheld, because the withheld part is inside the remix's pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from stage.errors import NotFound


class Queryable(Protocol):
    """A ``Store`` or a read-only snapshot (:class:`stage.records.archive.Snapshot`): anything with ``query``."""

    def query(self, sql: str, params: tuple | dict = ()) -> list[Any]: ...


@dataclass
class Node:
    id: str
    kind: str
    status: str
    author: str
    participant_id: str | None
    crew_author: str | None
    text: str | None
    media: str | None
    created_at: float
    withheld: str | None = None  # why it is not shown: rejected, withdrawn, rehearsal, consent_withdrawn...
    take: dict[str, Any] | None = None  # rig, performer, operator, number, circled, in/out for takes

    def public(self) -> dict[str, Any]:
        out = {"id": self.id, "kind": self.kind, "author": self.author, "text": self.text,
               "media": f"/media/{self.media}" if self.media else None, "created_at": self.created_at}
        if self.take:
            out["take"] = {k: self.take[k] for k in ("rig", "performer", "operator", "number", "circled")}
        return out


_SELECT = """
SELECT r.id, r.kind, r.status, r.participant_id, r.crew_author, COALESCE(r.author_name, r.crew_author) AS author,
       r.text, r.media, r.created_at, p.simulated,
       t.record_id AS take_id, t.rig, t.performer_id, t.number, t.circled, t.deleted_at, t.in_point, t.out_point,
       t.duration, t.slate, pp.name AS performer_name, t.consent_withdrawn_at,
       pp.simulated AS performer_simulated
FROM records r
LEFT JOIN participants p ON p.id = r.participant_id
LEFT JOIN takes t ON t.record_id = r.id
LEFT JOIN participants pp ON pp.id = t.performer_id
WHERE r.kind != 'comment'
"""
# Ordered, not left to the engine: both backends, and a night moved between them, list the graph alike.
_ORDER = " ORDER BY r.created_at, r.id"
_ROWS = _SELECT + _ORDER
# What some records were made from, transitively: SQLite and PostgreSQL both walk it (UNION stops at a cycle).
# A comment is "on" a record, not made from it: it starts no walk.
_UP = """WITH RECURSIVE up(id) AS (
  SELECT id FROM records WHERE kind != 'comment' AND id IN ({marks})
  UNION
  SELECT s.source_id FROM record_sources s JOIN up ON s.record_id = up.id
) """


@dataclass
class Lineage:
    nodes: dict[str, Node]
    sources: dict[str, list[str]] = field(default_factory=dict)  # record -> what it was made from
    children: dict[str, list[str]] = field(default_factory=dict)  # record -> what was made from it

    def visible(self, record_id: str) -> bool:
        node = self.nodes.get(record_id)
        return node is not None and node.withheld is None

    def ancestors(self, record_id: str) -> list[str]:
        """The record and everything it was made from, transitively (visible ones only), nearest first."""
        return self._walk(record_id, self.sources)

    def descendants(self, record_id: str) -> list[str]:
        return self._walk(record_id, self.children)

    def _walk(self, start: str, links: dict[str, list[str]]) -> list[str]:
        seen, order, queue = {start}, [], [start]
        while queue:
            current = queue.pop(0)
            if self.visible(current):
                order.append(current)
            for nxt in links.get(current, ()):
                if nxt not in seen and self.visible(nxt):
                    seen.add(nxt)
                    queue.append(nxt)
        return order

    def graph(self, record_id: str) -> dict[str, Any]:
        """Nodes and edges around one record: everything upstream and downstream of it."""
        if not self.visible(record_id):
            raise NotFound(f"no record {record_id} that may be shown")
        ids = dict.fromkeys(self.ancestors(record_id) + self.descendants(record_id))
        return self.subgraph(list(ids), root=record_id)

    def upstream(self, record_ids: list[str]) -> dict[str, Any]:
        """What some records were made from, transitively (the lineage of a remix before it is stored)."""
        ids = dict.fromkeys(i for r in record_ids for i in self.ancestors(r))
        return self.subgraph(list(ids), root=None)

    def whole(self) -> dict[str, Any]:
        """The night's whole graph (every visible record), for the archive."""
        return self.subgraph([i for i in self.nodes if self.visible(i)], root=None)

    def subgraph(self, ids: list[str], root: str | None) -> dict[str, Any]:
        chosen = set(ids)
        edges = [{"from": source, "to": record}
                 for record in ids for source in self.sources.get(record, ()) if source in chosen]
        return {"root": root, "nodes": [self.nodes[i].public() for i in ids], "edges": edges}


def load(store: Queryable, include_withheld: bool = False) -> Lineage:
    """The whole night's lineage in two queries (a night is thousands of records, not millions)."""
    return _built(store.query(_ROWS), store.query("SELECT record_id, source_id FROM record_sources ORDER BY rowid"),
                  include_withheld)


def load_upstream(store: Queryable, record_ids: list[str]) -> Lineage:
    """Only these records and what they were made from (two queries, however big the night): what the
    credits of a few records on a wall or a feed need, without reading the whole night for each."""
    if not record_ids:
        return Lineage({})
    up, params = _UP.format(marks=",".join("?" * len(record_ids))), tuple(record_ids)
    rows = store.query(up + _SELECT + " AND r.id IN (SELECT id FROM up)" + _ORDER, params)
    links = store.query(up + "SELECT record_id, source_id FROM record_sources"
                        " WHERE record_id IN (SELECT id FROM up) ORDER BY rowid", params)
    return _built(rows, links, include_withheld=False)


def _built(rows: list[Any], links: list[Any], include_withheld: bool) -> Lineage:
    nodes = {row["id"]: _node(row) for row in rows}
    lineage = Lineage(nodes)
    for link in links:
        if link["record_id"] in nodes and link["source_id"] in nodes:
            lineage.sources.setdefault(link["record_id"], []).append(link["source_id"])
            lineage.children.setdefault(link["source_id"], []).append(link["record_id"])
    if include_withheld:
        for node in nodes.values():
            node.withheld = None
    else:
        _withhold_remixes_of_withheld(lineage)
    return lineage


def graph(store: Queryable, record_id: str) -> dict[str, Any]:
    return load(store).graph(record_id)


def _node(row: Any) -> Node:
    take = None
    if row["take_id"] is not None:
        slate = json.loads(row["slate"] or "{}")
        take = {"rig": row["rig"], "performer_id": row["performer_id"],
                "performer": slate.get("performer") or row["performer_name"],
                "operator": slate.get("operator"), "number": row["number"],
                "circled": bool(row["circled"]), "in_point": row["in_point"], "out_point": row["out_point"],
                "duration": row["duration"]}
    node = Node(row["id"], row["kind"], row["status"], row["author"], row["participant_id"], row["crew_author"],
                row["text"], row["media"], row["created_at"], take=take)
    node.withheld = _withheld(row)
    return node


def _withheld(row: Any) -> str | None:
    if row["status"] != "approved":
        return row["status"]
    if row["simulated"]:
        return "rehearsal"
    if row["take_id"] is not None:
        if row["deleted_at"] is not None:
            return "deleted"
        if row["performer_id"] is not None and row["performer_simulated"]:
            return "rehearsal"
        if row["consent_withdrawn_at"] is not None:
            return "consent_withdrawn"
    return None


def _withhold_remixes_of_withheld(lineage: Lineage) -> None:
    """A remix shows its sources: when one is withheld, so is the remix (and remixes of it)."""
    queue = [i for i, n in lineage.nodes.items() if n.withheld]
    while queue:
        current = queue.pop()
        for child in lineage.children.get(current, ()):
            node = lineage.nodes[child]
            if node.kind == "remix" and node.withheld is None:
                node.withheld = f"source {lineage.nodes[current].withheld}"
                queue.append(child)
