"""Who is connected to this process: phones by participant, displays by name.

The per-process socket registry: the namespaces fill it from connect and disconnect, the
broadcaster reads it to reach displays. The night reads only the counts (``Headcount`` in
:mod:`stage.night`), so domain code never imports this module.
"""

from __future__ import annotations


class Presence:
    def __init__(self) -> None:
        self._phones: dict[str, str] = {}  # sid -> participant id
        self._displays: dict[str, str] = {}  # sid -> display name

    def phone_joined(self, sid: str, participant_id: str) -> None:
        self._phones[sid] = participant_id

    def display_connected(self, sid: str, name: str) -> None:
        self._displays[sid] = name

    def left(self, sid: str) -> bool:
        """Forget a socket; True when it was a joined phone or a display (the counts change)."""
        return self._phones.pop(sid, None) is not None or self._displays.pop(sid, None) is not None

    @property
    def phones(self) -> int:
        return len(set(self._phones.values()))

    def display_of(self, sid: str) -> str | None:
        return self._displays.get(sid)

    def display_sids(self, name: str) -> list[str]:
        return [sid for sid, n in self._displays.items() if n == name]

    def displays_online(self, name: str) -> int:
        return sum(1 for n in self._displays.values() if n == name)
