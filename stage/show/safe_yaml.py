"""YAML for show files, with limits: a show file is a few KiB written by a person, so anything far
past that is a mistake or an attack, and must end in a clear ``file:line:column`` error, never a
stall, a ``RecursionError`` or a traceback.

PyYAML 6.0.3 (the newest release) has no limits of its own: yaml/pyyaml#235 (billion laughs, open
since 2018; the maintainers consider shared alias nodes harmless, which holds only until something
walks them, as our duplicate-key check did) and yaml/pyyaml#604 (RecursionError on deep nesting,
open). Its composer recurses per level and lets an alias point at the node that holds it, so the
limits are enforced here, in Stage's own loader class:

- nesting depth (``MAX_DEPTH``): checked before each collection is composed, so 5,000 nested ``[``
  stop at level ``MAX_DEPTH`` instead of exhausting Python's stack;
- recursive aliases (``cues: &loop [{cues: *loop}]``) are refused: a show is a tree;
- nodes in all (``MAX_NODES``), counted as they are composed, so parsing time stays under a second;
- alias expansion (``MAX_ALIAS_NODES``): each anchor's expanded size is counted once, when it is
  composed, and every alias charges that size, so a billion-laughs bomb (9 levels x 9) is refused
  after a few thousand nodes of bookkeeping rather than walked a billion times.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent

# The demo nests 6 levels deep; groups of groups of cues need perhaps 20. 64 leaves room for any
# real show and keeps PyYAML's recursive composer (3 frames a level) far from Python's stack limit.
MAX_DEPTH = 64
# Nodes that aliases may add to a show in total. Aliases in shows reuse a few cues or a theme
# (dozens of nodes); 10,000 is generous for that and tiny next to a bomb's 9**9.
MAX_ALIAS_NODES = 10_000
# Nodes in all (keys, values and what aliases add). Pure-Python PyYAML composes ~25,000 nodes a
# second here, so the 1 MiB size cap alone still let a file of 500,000 one-character items run for
# 23 s and 435 MiB. The demo has 186 nodes; a night of 500 cues about 10,000.
MAX_NODES = 20_000


class YamlLimit(yaml.MarkedYAMLError):
    """A show's YAML goes past one of the limits above (reported like a syntax error, with its mark)."""

    def __init__(self, problem: str, mark: yaml.Mark) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class ShowYamlLoader(yaml.SafeLoader):
    """SafeLoader plus depth, recursion and alias-expansion limits, and marked scalar errors."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._nodes = 0  # nodes composed so far, aliases counted at their expanded size
        self._alias_nodes = 0
        self._sizes: dict[str, int] = {}  # anchor -> expanded size of its node
        self._open: set[str] = set()  # anchors whose node is being composed (an alias to one is a loop)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._charge_alias(event)
            return super().compose_node(parent, index)
        anchor = event.anchor
        collection = isinstance(event, CollectionStartEvent)
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise YamlLimit(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        before = self._nodes
        self._count(1, event)
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= collection
            self._open.discard(anchor)
        if anchor is not None:
            self._sizes[anchor] = self._nodes - before
        return node

    def _charge_alias(self, event: AliasEvent) -> None:
        if event.anchor in self._open:
            raise YamlLimit(f"the alias *{event.anchor} refers to the node that contains it (a loop)",
                            event.start_mark)
        size = self._sizes.get(event.anchor, 0)  # 0: undefined, PyYAML's composer says so
        self._alias_nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise YamlLimit(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", event.start_mark)
        self._count(size, event)

    def _count(self, nodes: int, event: Any) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise YamlLimit(f"more than {MAX_NODES:,} YAML nodes (keys and values); a show needs far fewer",
                            event.start_mark)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Scalars whose text matches a YAML type but not its range (2024-02-30, an int of 5,000
        # digits past Python's int limit) raise a bare ValueError in PyYAML; give them their mark.
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value: {exc}",
                                                    node.start_mark) from None


def reader_position(text: str, position: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in ``text``."""
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column
