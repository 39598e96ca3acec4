"""A route for the request context of every Socket.IO event.

Flask-SocketIO runs each event handler inside ``app.request_context(<the connection's environ>)``, whose
path is ``/socket.io/``. With no route there, Flask's URL matching raises ``NotFound`` for every event
and keeps it on ``request.routing_exception``; its traceback holds the frames that hold the request
context, a reference cycle that only the garbage collector frees (found in the soak: 685 of them
among 64,513 garbage objects after a 90-second, 400-phone rehearsal). With this rule the match
succeeds and nothing is raised. No request ever reaches the view: python-engineio's middleware
answers ``/socket.io/`` before Flask sees it; were one to arrive, it gets the 404 it got before.
"""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("socket_context", __name__)


# strict_slashes off: browsers connect to ``/socket.io/``, Flask-SocketIO's test client to ``/socket.io``
# (a redirect would be raised and kept just the same).
@bp.route("/socket.io/", methods=["GET", "POST"], strict_slashes=False)
def socketio_events() -> None:
    abort(404)
