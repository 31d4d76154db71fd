"""The one Redis connection pool a process shares for the pipeline's bookkeeping, and the
wait a worker's work in flight makes for it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import redis

from common.queue_failures import is_queue_error
from common.settings import get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

REDIS_WAIT_S = 60.0  # longer than a restart; an outage beyond it fails the work plainly
# A Redis that does not answer within this is away, as a stopped one is: frozen (`docker
# pause`, a stalled VM) or, across machines, behind a network that drops packets. Without it a
# call waits for ever, and a poller says nothing. Far above any answer of a live Redis.
REDIS_SOCKET_TIMEOUT_S = 10.0


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url,
        decode_responses=True,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S,
        socket_timeout=REDIS_SOCKET_TIMEOUT_S,
    )


def waiting_for_redis(call: Callable[[], T], doing: str, wait_s: float = REDIS_WAIT_S) -> T:
    """``call()``, tried again every second while Redis (bookkeeping or broker) is unreachable
    or does not answer, for up to ``wait_s``: a worker's work in flight rides out a Redis
    restart or freeze. ``call`` must be safe to repeat. The app and the CLI do not wait: they
    say at once that Redis is away."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return call()
        except Exception as error:
            if not is_queue_error(error) or time.monotonic() >= deadline:
                raise
            log.warning("%s: Redis unreachable (%s); waiting for it", doing, error)
            time.sleep(1.0)
