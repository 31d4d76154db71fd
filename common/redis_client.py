"""The one Redis connection pool a process shares for the pipeline's bookkeeping."""

from __future__ import annotations

from functools import cache

import redis

from common.settings import get_settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, decode_responses=True)
