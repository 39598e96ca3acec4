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

The queue's state, ``up`` or ``down``, is reported to ``on_state`` (from the listener's greenlet): the consoles
show it, and a process that comes back to ``up`` re-syncs what it may have missed.
"""

from __future__ import annotations

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


def redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path}"


class StageRedisManager(IndexedRooms, socketio.RedisManager):
    """The Redis client manager of ``stage serve --redis``; disconnects stay O(their rooms) (manager.py)."""

    def __init__(self, url: str, channel: str, on_state: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(url, channel=channel)
        self.state = "down"  # until the listener has subscribed
        self.dropped = 0  # emits not published while the queue was down
        self.on_state = on_state or (lambda state: None)  # set by realtime.resync
        self._clock = clock
        self._heard_at = clock()
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

    def _set_state(self, state: str, why: str = "") -> None:
        if state == self.state:
            return
        self.state = state
        if state == "up":
            log.info("message queue %s is up on channel %s%s", redacted(self.redis_url), self.channel,
                     f"; {self.dropped} emits were not shared while it was down" if self.dropped else "")
            self.dropped = 0
        else:
            log.error("message queue %s is down (%s): emits reach this process's clients only",
                      redacted(self.redis_url), why)
        self.on_state(state)

    def _publish(self, data: dict) -> None:
        if self.state == "down" and data.get("method") != BEAT:
            self.dropped += 1  # do not wait on a dead Redis for every emit: the beat finds it back
            return
        try:
            self.redis.publish(self.channel, self.json.dumps(data))
        except redis.RedisError as exc:
            self.dropped += data.get("method") != BEAT
            self._set_state("down", str(exc) or type(exc).__name__)

    def _listen(self) -> Iterator[bytes]:
        channel = self.channel.encode()
        while True:
            try:
                self._listening = self._subscriber.pubsub(ignore_subscribe_messages=True)
                self._listening.subscribe(self.channel)
                self._heard_at = self._clock()
                self._set_state("up")
                for message in self._listening.listen():
                    self._heard_at = self._clock()
                    if self.state != "up":  # a publish failed meanwhile, and this process's beat came round again
                        self._set_state("up")
                    if message.get("type") == "message" and message.get("channel") == channel:
                        yield message["data"]
            except (redis.RedisError, OSError) as exc:
                self._set_state("down", str(exc) or type(exc).__name__)
            finally:
                self._close_listening()
            self.server.sleep(RETRY_S)

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
                self._set_state("down", f"nothing heard for {SILENCE_S:.0f} s")
                connection = self._listening.connection
                if connection is not None:
                    connection.disconnect()  # the blocked read raises; the listener subscribes again
