"""OSC out (targets, console profiles, paced sending) and OSC in (remote control). No Flask, no Socket.IO.

- ``messages``: the typed ``OscMessage`` Stage sends, encoded with python-osc, and its TCP framings.
- ``profiles``: an ``OscCue`` for an ``OscTarget`` -> the messages its console understands.
- ``links``: one connection to one target (UDP, TCP 1.0 length-prefix, TCP 1.1 SLIP).
- ``sender``: ``OscSender``, a paced worker per target that never blocks or raises into a GO.
- ``commands``: the ``/stage/...`` addresses a remote may send, and the handlers they call.
- ``datagrams``: strict decoding of received datagrams (all of one, or nothing; no python-osc parser).
- ``remote``: ``OscRemote``, the UDP listener with allow-list, rate limit, replies and counters.
- ``remote_control``: ``RemoteControl``, the commands' handlers on the cue engine and display boards.

Concurrency is injected (``spawn``/``sleep``): the server passes Socket.IO's, tests pass threads.
"""
