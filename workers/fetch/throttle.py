"""A minimum gap between calls to the stats site, shared by every fetch worker through Redis.

The site throttles bursts, and a per-process sleep would not stop two workers from calling at
once. Each caller atomically reserves the next free time slot (server time, so worker clocks
don't matter) and sleeps until it comes. A Redis restart is waited out
(``common.redis_client.waiting_for_redis``), as the rest of the fetch waits for it: a fetch
in flight survives it.
"""

from __future__ import annotations

import logging
import time

import redis

from common.keys import THROTTLE_KEY
from common.redis_client import waiting_for_redis

log = logging.getLogger(__name__)

# KEYS[1]: next free slot (ms since epoch). ARGV[1]: gap in ms. Returns ms to wait.
_RESERVE_SLOT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_ms, next_free)
local gap = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + gap, 'PX', gap + 60000)
return slot - now_ms
"""


class SharedThrottle:
    def __init__(self, client: redis.Redis, gap_s: float, key: str = THROTTLE_KEY):
        self._reserve = client.register_script(_RESERVE_SLOT)
        self._gap_ms = round(gap_s * 1000)
        self._key = key

    def wait_turn(self) -> float:
        """Block until this caller may send a request; returns the seconds waited."""
        if self._gap_ms <= 0:
            return 0.0
        wait_s = waiting_for_redis(self._reserve_slot, "throttle") / 1000
        if wait_s > 0:
            log.debug("throttle: waiting %.3f s for the stats site", wait_s)
            time.sleep(wait_s)
        return wait_s

    def _reserve_slot(self) -> int:
        """Milliseconds until this caller's slot."""
        return int(self._reserve(keys=[self._key], args=[self._gap_ms]))
