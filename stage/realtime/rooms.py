"""Every Socket.IO room name, in one place: who hears a broadcast.

Console rooms hold the sockets of one role's logged-in consoles; a phone is in one slice room (for
fan-out) and in its participant's room (its own statuses, on every device it joined from); a display
in its display's room and in the room of all displays; the crew and live displays in a rig's preview
room; an agent in its rig's room.
"""

from __future__ import annotations

import zlib

HOSTS = "hosts"  # /host
MODERATORS = "moderators"  # /moderation (hosts too: they moderate)
CREW = "crew"  # /crew
DISPLAYS = "displays"  # /display: every display (the wall, the phone counter); each is also in its own room

# Phones sit in one of PHONE_SLICES rooms (by their sid): a broadcast to phones goes out slice by slice,
# so events that arrive during a fan-out to thousands of phones wait for one slice, not for all of it.
PHONE_SLICES = 16
PHONE_ROOMS = tuple(f"phones:{n}" for n in range(PHONE_SLICES))
PREVIEW_PREFIX = "preview:"


def phone_room(sid: str) -> str:
    return PHONE_ROOMS[zlib.crc32(sid.encode()) % PHONE_SLICES]


def participant_room(participant_id: str) -> str:
    return f"participant:{participant_id}"


def display_room(name: str) -> str:
    return f"display:{name}"


def preview_room(rig: str) -> str:
    return f"{PREVIEW_PREFIX}{rig}"


def rig_room(rig: str) -> str:
    return f"rig:{rig}"
