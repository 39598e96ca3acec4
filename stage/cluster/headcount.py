"""The night's phone count when several serve processes share it (issue 17): each one's count, summed in Redis.

The join cap, the join scene's "N phones here" and the consoles' counters must count the whole house, but
each process knows only its own sockets (``realtime.presence.Presence``). So each process writes its count
into one hash every ``BEAT_S``, stamped with Redis's clock (one clock for every machine), and reads the
others' back in the same round trip; an entry older than ``STALE_MS`` is a process that died, and is dropped
from the sum and the hash. Between beats the total moves with this process's own joins and leaves, so a
process's cap never lags its own phones.

A participant with sockets on two processes counts on both (its phone and its laptop, or a phone moved by
a failover before its old socket timed out): accepted, since an exact count would need every process's
participant set each beat. The cap exempts known participants anyway (``night.audience``).

Redis away: the count is this process's own (logged once), and the beat tries again; nothing else depends
on it. No Flask and no Socket.IO here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from stage.night.listener import Headcount

log = logging.getLogger(__name__)

BEAT_S = 1.0
STALE_MS = 3_000  # three beats missed: that process is gone
# One round trip, on Redis's clock: write ours, sum the others', drop the stale. Returns {others, dropped}.
BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 10)
local entries = redis.call('HGETALL', KEYS[1])
local others, dropped = 0, 0
for i = 1, #entries, 2 do
  local count, at = string.match(entries[i + 1], '(%d+) (%d+)')
  if now - tonumber(at) > tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], entries[i])
    dropped = dropped + 1
  elseif entries[i] ~= ARGV[1] then
    others = others + tonumber(count)
  end
end
return {others, dropped}
"""


class ClusterHeadcount:
    """A ``night.Headcount`` over every process: ``phones`` is the house, displays stay this process's
    (displays connect to the conductor, stage/cluster/conductor.py)."""

    def __init__(self, local: Headcount, client: redis.Redis, prefix: str, proc: str) -> None:
        self._local = local
        self._redis = client
        self._key = f"{prefix}:phones"
        self._proc = proc
        self._others = 0  # the other processes' phones at the last beat
        self._beat = client.register_script(BEAT)
        self._reachable = True

    @property
    def phones(self) -> int:
        return self._others + self._local.phones

    def displays_online(self, name: str) -> int:
        return self._local.displays_online(name)

    def beat(self) -> None:
        """Write this process's count, read the others'; a failure leaves this process's own (logged once)."""
        try:
            others, gone = self._beat(keys=[self._key], args=[self._proc, self._local.phones, STALE_MS])
        except redis.RedisError as exc:
            if self._reachable:
                log.warning("phone count: Redis is unreachable (%s); counting this process's phones only", exc)
                self._reachable, self._others = False, 0
            return
        if not self._reachable:
            log.info("phone count: Redis is back; counting the whole house again")
            self._reachable = True
        self._others = int(others)
        if gone:
            log.info("phone count: %d process(es) stopped beating and left the count", gone)

    def beat_forever(self, sleep: Callable[[float], None]) -> None:
        while True:
            self.beat()
            sleep(BEAT_S)

    def leave(self) -> None:
        """This process stops serving: its phones leave the count at once, not a stale period later."""
        try:
            self._redis.hdel(self._key, self._proc)
        except redis.RedisError:
            pass
