"""The message queue between serve processes (issue 17): python-socketio's Redis manager, made to last a night.

With ``--redis`` every ``socketio.emit`` is handled here and published on the night's channel, and every
other process re-emits it to its own members of the room (python-socketio's ``PubSubManager``). Upstream's
``RedisManager`` (python-socketio 5.18.1) is kept for all of that; what it does not do for a night:

- **It cannot tell that it went deaf.** Its listener blocks on one read; a Redis that drops an idle or
  half-open connection can leave that read blocked for good (python-socketio#281). Here each process
  publishes a beat on the channel every ``BEAT_S`` and hears its own; a listener that heard nothing for
  ``SILENCE_S`` closes its connection, so the blocked read raises and the loop subscribes again.
- **It retries with a backoff doubling to 60 s,** so a Redis restarted for a second left the process deaf
  for up to a minute. Here a reconnect is tried every ``RETRY_S``.
- **It publishes and listens on one client,** so a read timeout (which would bound an emit's wait on an
  unreachable Redis) would break the blocking listen. Here the publisher has short timeouts and no retries
  (an emit waits at most ``PUBLISH_TIMEOUT_S`` for a dead Redis, then is dropped: the state it carried is
  made good by a resync when the queue is back), and the subscriber blocks with TCP keepalives.
- **It logs two lines per emit while Redis is away** (a whole house of phones: a flood). Here one line when
  the queue goes down, one when it is back, with how many emits it dropped.
- It starts listening at the first connection; ``start()`` starts it when the server starts serving, so a
  process hears the night before it takes its first phone.

The queue's state, ``up`` (hearing the channel and publishing) or ``down``, is in ``state``: ``/healthz``
and the consoles' counters show it. ``up`` is said only once this process heard the channel again (its own
beat), never at a mere SUBSCRIBE: a Redis refusing the login would flap otherwise. ``on_missed`` says this
process's clients may have missed emits, and runs a resync (realtime/resync.py): when the listener hears
again after it went deaf, and when another process says it could not publish for a while (a
``stage_resync`` message, which a process sends once its publishing works again after it dropped emits).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

from stage.realtime.manager import IndexedRooms

log = logging.getLogger(__name__)

BEAT_S = 2.0
SILENCE_S = 6.0  # three beats missed: the subscription is dead even if its socket says nothing
RETRY_S = 1.0
PUBLISH_TIMEOUT_S = 1.0
CONNECT_TIMEOUT_S = 0.5
BEAT = "stage_beat"  # a method python-socketio's listener ignores (PubSubManager._thread dispatches known ones)
RESYNC = "stage_resync"  # "my emits were lost for a while": every other process re-syncs its clients
RESYNC_BYTES = RESYNC.encode()


def redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path}"


class StageRedisManager(IndexedRooms, socketio.RedisManager):
    """The Redis client manager of ``stage serve --redis``; disconnects stay O(their rooms) (manager.py)."""

    def __init__(self, url: str, channel: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(url, channel=channel)
        self.state = "down"  # until the listener has heard the channel
        self.dropped = 0  # emits not published since publishing last worked
        self.on_missed: Callable[[], None] = lambda: None  # set by the realtime layer (realtime/resync.py)
        self._clock = clock
        self._heard_at = clock()
        self._hearing = self._heard_once = False
        self._failed_at: float | None = None  # the last failed publish, while publishing fails
        self._listening: redis.client.PubSub | None = None
        no_retry = Retry(NoBackoff(), 0)  # the caller decides: the publisher drops, the listener loops
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                          socket_timeout=PUBLISH_TIMEOUT_S, retry=no_retry)
        self._subscriber = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=None,
                                                socket_keepalive=True, retry=no_retry)

    def start(self) -> None:
        """Subscribe now, not at the first connection (python-socketio initializes its manager lazily)."""
        server = self.server
        if not server.manager_initialized:
            server.manager_initialized = True
            self.initialize()

    def initialize(self) -> None:
        super().initialize()  # checks the monkey-patching and starts the listener (PubSubManager._thread)
        self.server.start_background_task(self._beat)

    def _update(self, why: str = "") -> None:
        state = "up" if self._hearing and self._failed_at is None else "down"
        if state == self.state:
            return
        self.state = state
        if state == "up":
            log.info("message queue %s is up on channel %s", redacted(self.redis_url), self.channel)
        else:
            log.error("message queue %s is down (%s): emits reach this process's clients only",
                      redacted(self.redis_url), why)

    def _publish(self, data: dict) -> None:
        beat = data.get("method") == BEAT
        if not beat and self._failed_at is not None and self._clock() - self._failed_at < RETRY_S:
            self.dropped += 1  # do not wait on a dead Redis for every emit: the beat finds it back
            return
        try:
            self.redis.publish(self.channel, self.json.dumps(data))
        except redis.RedisError as exc:
            self.dropped += not beat
            self._failed_at = self._clock()
            self._update(str(exc) or type(exc).__name__)
            return
        if self._failed_at is not None:
            self._failed_at = None
            if self.dropped:  # the other processes' clients missed them: tell those processes
                log.warning("message queue: %d emits were not shared while publishing failed; the other processes "
                            "re-sync their clients", self.dropped)
                self.dropped = 0
                self._publish({"method": RESYNC, "host_id": self.host_id})
            self._update()

    def _listen(self) -> Iterator[bytes]:
        channel = self.channel.encode()
        while True:
            try:
                self._listening = self._subscriber.pubsub(ignore_subscribe_messages=True)
                self._listening.subscribe(self.channel)
                self._heard_at = self._clock()
                self._publish({"method": BEAT, "host_id": self.host_id})  # heard back: the channel works
                for message in self._listening.listen():
                    self._heard_at = self._clock()
                    if not self._hearing:
                        self._heard_again()
                    if message.get("type") != "message" or message.get("channel") != channel:
                        continue
                    data = message["data"]
                    if RESYNC_BYTES in data and json.loads(data).get("host_id") != self.host_id:
                        self.on_missed()
                        continue
                    yield data
            except Exception as exc:  # noqa: BLE001 (a listener that dies leaves the process deaf all night)
                self._hearing = False
                self._update(str(exc) or type(exc).__name__)
            finally:
                self._close_listening()
            self.server.sleep(RETRY_S)

    def _heard_again(self) -> None:
        self._hearing = True
        self._update()
        if self._heard_once:  # deaf for a while: whatever was published meanwhile never came
            self.on_missed()
        self._heard_once = True

    def _close_listening(self) -> None:
        listening, self._listening = self._listening, None
        if listening is not None:
            try:
                listening.close()
            except (redis.RedisError, OSError):
                pass

    def _beat(self) -> None:
        """Publish a beat and watch for our own: silence means the subscription is dead, whatever its socket says."""
        while True:
            self.server.sleep(BEAT_S)
            self._publish({"method": BEAT, "host_id": self.host_id})
            if self._listening is not None and self._clock() - self._heard_at > SILENCE_S:
                self._hearing = False
                self._update(f"nothing heard for {SILENCE_S:.0f} s")
                connection = self._listening.connection
                if connection is not None:
                    connection.disconnect()  # the blocked read raises; the listener subscribes again
