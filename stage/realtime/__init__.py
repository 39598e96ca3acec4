"""Socket.IO on the server: one namespace module per role, the broadcaster and this process's socket
registry (``presence``). The only code that emits. (The capture agent's client is
:mod:`stage.capture.link`: the agent is a separate process and imports nothing from here.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from stage.night import Night
    from stage.realtime.broadcast import Broadcaster


@dataclass(frozen=True)
class Watchers:
    """Loops that run while the server serves, which ``stage.server.start_serving`` starts."""

    serving: list[Callable[[], None]]  # in every process: its own console sockets' sessions
    conducting: list[Callable[[], None]]  # only where the show runs (stage/cluster/conductor.py): the displays


def init_app(socketio: "SocketIO", night: "Night", hub: "Broadcaster") -> Watchers:
    """Register the namespaces and wire the night's links; return the watchers: registering starts nothing."""
    from stage.realtime.audience import AudienceNamespace
    from stage.realtime.capture import CaptureNamespace, SocketRigLink
    from stage.realtime.consoles import CrewNamespace, HostNamespace, ModerationNamespace, SessionLink
    from stage.realtime.devices import DisplayNamespace, display_watcher

    consoles = [HostNamespace("/host", night, hub), ModerationNamespace("/moderation", night, hub),
                CrewNamespace("/crew", night, hub)]
    socketio.on_namespace(AudienceNamespace("/audience", night, hub))
    for console in consoles:
        socketio.on_namespace(console)
    socketio.on_namespace(DisplayNamespace("/display", night, hub))
    socketio.on_namespace(CaptureNamespace("/capture", night, hub))
    night.recording.link = SocketRigLink(socketio)
    sessions = SessionLink(socketio, night.sessions, consoles)
    night.sessions.on_revoked = sessions.revoked  # logout disconnects that session's sockets at once
    manager = socketio.server.manager
    if hasattr(manager, "on_missed"):  # the message queue (--redis): clients catch up when it is back
        from stage.realtime.resync import Resync

        manager.on_missed = Resync(socketio, night).missed
    return Watchers(serving=[sessions.watch], conducting=[display_watcher(socketio, night)])
