"""Limits shared by a night's serve processes (issue 17), in Redis: the same calls as ``stage.limiter``'s.

A phone's joins per address, its submissions and uploads, and a machine's media workers must count the
same wherever the phone's request lands. Each window is a sorted set per key on Redis's own clock (one clock
for every machine), checked and counted in one Lua script, so requests at once on two processes cannot both
pass a window with one slot left.

``limits``' ``RedisStorage`` with its moving window has hit/test/clear but no way to give back one reserved
hit, which submissions (given back when refused before any work) need; hence these two small scripts.

Redis away: each call falls back to this process's own window (``stage.limiter``), logged once a minute;
a phone is never refused for Redis being down, and limits go on per process until it is back. A slot in
flight names its process: the slots of a process that stopped beating (headcount.py) are dropped at the
next acquire, so a killed worker does not hold a machine's media workers; a give-back Redis missed is
tried again at the next call.
"""

from __future__ import annotations

import logging
import uuid

import redis
from limits import RateLimitItem
from limits import parse as parse_limit

from stage.cluster.headcount import STALE_MS
from stage.limiter import InFlight, MovingWindowLimiter, log_sometimes

log = logging.getLogger(__name__)

_DOWN_LINES = parse_limit("1 per minute")
IN_FLIGHT_TTL_MS = 10 * 60_000  # the backstop: a dead process's slots go within STALE_MS, by its missing beats

# KEYS[1] the window; ARGV: amount, window ms, member, "hit" or "test". Returns 1 (allowed, counted unless a
# test) or 0 (full).
WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
if ARGV[4] == 'hit' then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""
# KEYS[1] the slots, KEYS[2] the processes' beats (headcount.py); ARGV: cap, ttl ms, member ("proc|uuid"),
# stale ms. A slot of a process that stopped beating is dropped first. Returns 1 (taken) or 0 (all taken).
SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local beat = redis.call('HGET', KEYS[2], string.match(member, '^(.*)|'))
  if not beat or now - tonumber(string.match(beat, ' (%d+)$')) > tonumber(ARGV[4]) then
    redis.call('ZREM', KEYS[1], member)
  end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def _down(exc: Exception) -> None:
    log_sometimes(log, _DOWN_LINES, ("redis",), "shared limits: Redis is unreachable (%s); each process counts its "
                  "own until it is back", exc)


class SharedWindow:
    """``MovingWindowLimiter``'s calls over Redis. ``reserve`` returns an opaque stamp for ``release``."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis, self._prefix = client, prefix
        self._script = client.register_script(WINDOW)
        self._local = MovingWindowLimiter()

    def _key(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> str:
        return f"{self._prefix}:limit:{item.key_for(*identifiers)}"

    def _run(self, item: RateLimitItem, identifiers: tuple[str, ...], member: str, mode: str) -> bool:
        return bool(self._script(keys=[self._key(item, identifiers)],
                                 args=[item.amount, int(item.get_expiry() * 1000), member, mode]))

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        try:
            return self._run(item, identifiers, "", "test")
        except redis.RedisError as exc:
            _down(exc)
            return self._local.test(item, *identifiers)

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self.reserve(item, *identifiers) is not None

    def reserve(self, item: RateLimitItem, *identifiers: str) -> str | float | None:
        member = uuid.uuid4().hex
        try:
            return member if self._run(item, identifiers, member, "hit") else None
        except redis.RedisError as exc:
            _down(exc)
            return self._local.reserve(item, *identifiers)

    def release(self, item: RateLimitItem, stamp: str | float, *identifiers: str) -> None:
        if not isinstance(stamp, str):  # reserved here while Redis was away
            self._local.release(item, stamp, *identifiers)
            return
        try:
            self._redis.zrem(self._key(item, identifiers), stamp)
        except redis.RedisError as exc:
            _down(exc)  # the hit stays until its window passes: a slot lost for 10 s, never one given twice

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._local.clear(item, *identifiers)
        try:
            self._redis.delete(self._key(item, identifiers))
        except redis.RedisError as exc:
            _down(exc)


class SharedInFlight:
    """``InFlight``'s calls over Redis: work running now per key, on every process."""

    def __init__(self, client: redis.Redis, prefix: str, cap: int, proc: str) -> None:
        self.cap = cap
        self._redis, self._prefix, self._proc = client, prefix, proc
        self._script = client.register_script(SLOT)
        self._local = InFlight(cap)  # while Redis is away
        self._mine: dict[str, list[str | None]] = {}  # key -> the slots this process holds (None: a local one)
        self._unreleased: list[tuple[str, str]] = []  # (slots key, member) Redis did not take back

    def acquire(self, key: str) -> bool:
        self._retry_releases()
        member: str | None = f"{self._proc}|{uuid.uuid4().hex}"
        try:
            taken = bool(self._script(keys=[f"{self._prefix}:slots:{key}", f"{self._prefix}:phones"],
                                      args=[self.cap, IN_FLIGHT_TTL_MS, member, STALE_MS]))
        except redis.RedisError as exc:
            _down(exc)
            taken, member = self._local.acquire(key), None
        if taken:
            self._mine.setdefault(key, []).append(member)
        return taken

    def release(self, key: str) -> None:
        held = self._mine.get(key)
        if not held:
            return
        member = held.pop()
        if not held:
            del self._mine[key]
        if member is None:
            self._local.release(key)
            return
        self._unreleased.append((f"{self._prefix}:slots:{key}", member))
        self._retry_releases()

    def _retry_releases(self) -> None:
        while self._unreleased:
            slots, member = self._unreleased[0]
            try:
                self._redis.zrem(slots, member)
            except redis.RedisError as exc:
                _down(exc)  # kept for the next call
                return
            self._unreleased.pop(0)

    def running(self, key: str) -> int:
        """This process's own (for its log lines)."""
        return len(self._mine.get(key, ()))
