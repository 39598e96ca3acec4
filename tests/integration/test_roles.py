"""Roles against a real server: a display lost without a close handshake (the Wi-Fi way).

The rest of the roles' tests run in process, in ``tests/app/test_roles.py``: Flask-SocketIO's test client
has no transport to lose, only a clean disconnect.
"""

from __future__ import annotations


# Needs a real server: the display's connection is lost without a close handshake (Peer.drop).
def test_host_counters_follow_displays_coming_and_going(stage, peers):
    host = peers.host()
    display = peers.display()
    assert host.wait_for("counts", lambda c: c["displays"] == {"main": 1})
    display.drop()
    assert host.wait_for("counts", lambda c: c["displays"] == {"main": 0})
