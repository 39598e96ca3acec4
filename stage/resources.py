"""Where Stage's own files are: inside the installed package, or beside it in a checkout.

A wheel carries the pages and the socket.io browser client inside the package (``stage/audience_web``,
``stage/vendor``: hatch_build.py puts them there); a checkout, or an editable install of one, has them at
the top of the repository (``audience_web/``, and ``node_modules/`` from ``npm ci``).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
SOCKETIO_CLIENT = Path("socket.io-client") / "dist" / "socket.io.min.js"


def web_root() -> Path:
    """The templates and static files of every page."""
    inside = PACKAGE / "audience_web"
    return inside if inside.is_dir() else REPO / "audience_web"


def socketio_client() -> Path:
    """The socket.io browser client at its pinned version (package.json)."""
    inside = PACKAGE / "vendor" / "socket.io.min.js"
    return inside if inside.is_file() else REPO / "node_modules" / SOCKETIO_CLIENT
