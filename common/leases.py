"""Leases: claims in Redis that live only while their holder renews them.

Every claim and lock of the pipeline is a lease: a key whose value names its holder (a task
id) and which expires ``LEASE_TTL_S`` after its last renewal. A running task renews its leases
from a heartbeat thread, so a worker killed mid-task (OOM, host restart, ``kill -9``) frees its
work within one TTL, and a new request can run; a finished task releases them at once. Only
the holder can renew or release a lease (compare-and-delete in Lua), so a holder that lost its
lease never frees a newer holder's.

A publisher may *claim* a key for a task before it runs (``claim_or_join``, one atomic step:
the claim, or the id already holding it); the task then *adopts* the claim as its lease.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import redis

from common.failures import LeaseBusyError
from common.redis_client import waiting_for_redis

log = logging.getLogger(__name__)

# ARGV: holder, ttl ms. Returns the holder after the call: ARGV[1] if claimed, else the other.
_CLAIM_OR_JOIN = """
local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
# Like claim, but a key already holding ARGV[1] (our own claim) is taken over and re-timed.
_ADOPT = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def claim_or_join(client: redis.Redis, key: str, holder: str, ttl_s: float) -> str:
    """Claim ``key`` for ``holder``, or return whoever holds it already (one atomic step)."""
    return str(client.eval(_CLAIM_OR_JOIN, 1, key, holder, _ms(ttl_s)))


def take_over(client: redis.Redis, key: str, dead: str, holder: str, ttl_s: float) -> bool:
    """Give ``key`` to ``holder`` if it still names ``dead`` (a holder known to have died)."""
    return bool(client.eval(_TAKE_OVER, 1, key, dead, holder, _ms(ttl_s)))


def release(client: redis.Redis, key: str, holder: str) -> bool:
    """Give up ``key`` if ``holder`` still holds it; a newer holder is left alone."""
    return bool(client.eval(_RELEASE, 1, key, holder))


class Lease:
    """One key held by ``holder`` for ``ttl_s`` after each renewal."""

    def __init__(self, client: redis.Redis, key: str, holder: str, ttl_s: float) -> None:
        self.client, self.key, self.holder, self.ttl_s = client, key, holder, ttl_s

    def acquire(self) -> str | None:
        """Take the key (free, or already ours); ``None`` on success, else its holder."""
        holder = str(self.client.eval(_ADOPT, 1, self.key, self.holder, _ms(self.ttl_s)))
        return None if holder == self.holder else holder

    def renew(self) -> bool:
        return bool(self.client.eval(_RENEW, 1, self.key, self.holder, _ms(self.ttl_s)))

    def release(self) -> bool:
        return release(self.client, self.key, self.holder)


class Heartbeat:
    """Renews a set of leases every third of their TTL on a daemon thread until stopped.

    A renewal that fails because Redis is briefly unreachable is retried on the next beat (the
    lease survives a restart shorter than its TTL); a lease someone else now holds is dropped
    and logged: its holder has been presumed dead, and the work will run again elsewhere."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def hold(self, lease: Lease) -> str | None:
        """Acquire ``lease`` and keep it renewed; ``None`` on success, else its holder."""
        holder = lease.acquire()
        if holder is None:
            with self._lock:
                self._leases[lease.key] = lease
        return holder

    def forget(self, key: str) -> None:
        """Stop renewing ``key``; the caller gives it back (or it lapses within its TTL)."""
        with self._lock:
            self._leases.pop(key, None)

    def stop(self) -> None:
        """Stop renewing and release every lease still held."""
        self._stop.set()
        with self._lock:
            leases, self._leases = list(self._leases.values()), {}
        for lease in leases:
            _release_or_let_lapse(lease)

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            with self._lock:
                leases = list(self._leases.values())
            for lease in leases:
                self._renew(lease)

    def _renew(self, lease: Lease) -> None:
        try:
            if lease.renew():
                return
        except redis.RedisError as error:
            log.warning("could not renew lease %s (%s); retrying", lease.key, error)
            return
        with self._lock:
            self._leases.pop(lease.key, None)
        log.error("lease %s was lost to another holder; this work will run again", lease.key)


def _release_or_let_lapse(lease: Lease) -> None:
    # Redis away (a restart): no longer renewed, the lease lapses within its TTL by itself,
    # so the work that let go of it goes on.
    try:
        lease.release()
    except redis.RedisError:
        log.warning("could not release lease %s; it lapses by itself", lease.key)


@contextmanager
def held(
    client: redis.Redis, key: str, holder: str, ttl_s: float, *, wait_s: float
) -> Iterator[None]:
    """Hold ``key`` for the block, renewed by a heartbeat; wait up to ``wait_s`` for it, and
    for Redis if it restarts meanwhile (a training reaching its promotion then goes on).

    Raises :class:`LeaseBusyError` naming the holder if it stays taken."""
    heartbeat = Heartbeat(ttl_s)
    take = partial(heartbeat.hold, Lease(client, key, holder, ttl_s))
    try:
        deadline = time.monotonic() + wait_s
        while (other := waiting_for_redis(take, f"taking {key}")) is not None:
            if time.monotonic() >= deadline:
                raise LeaseBusyError(
                    f"{key} is still held by {other} after {wait_s:g} s of waiting: the work "
                    "holding it goes on; try again once it ends (`nba-archetypes status`)"
                )
            time.sleep(min(0.2, ttl_s / 10))
        yield
    finally:
        heartbeat.stop()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
