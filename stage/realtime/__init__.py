"""Socket.IO: one namespace module per role. The only code that emits."""

from __future__ import annotations

from flask_socketio import SocketIO

from stage.night import Night
from stage.realtime.audience import AudienceNamespace
from stage.realtime.broadcast import Broadcaster
from stage.realtime.consoles import CrewNamespace, HostNamespace, ModerationNamespace
from stage.realtime.capture import CaptureNamespace, SocketRigLink
from stage.realtime.devices import DisplayNamespace


def init_app(socketio: SocketIO, night: Night, hub: Broadcaster) -> None:
    socketio.on_namespace(AudienceNamespace("/audience", night, hub))
    socketio.on_namespace(HostNamespace("/host", night, hub))
    socketio.on_namespace(ModerationNamespace("/moderation", night, hub))
    socketio.on_namespace(CrewNamespace("/crew", night, hub))
    socketio.on_namespace(DisplayNamespace("/display", night, hub))
    socketio.on_namespace(CaptureNamespace("/capture", night, hub))
    socketio.start_background_task(hub.watch_displays)
    night.rigs.link = SocketRigLink(socketio)
