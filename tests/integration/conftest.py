"""The integration tier runs on the session's Redis, emptied before each test."""

from __future__ import annotations

import os

import pytest
import redis

from devkit.services import RedisServer


@pytest.fixture(autouse=True)
def _empty_redis(redis_service: RedisServer | None) -> None:
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


@pytest.fixture
def redis_server(redis_service: RedisServer | None) -> RedisServer:
    """The tests' own redis-server, for tests that restart it."""
    if redis_service is None:
        pytest.skip("needs the tests' own redis-server (TEST_REDIS_URL names an outside one)")
    return redis_service
