"""The app reads task states and queues from the session's Redis, emptied before each test."""

from __future__ import annotations

import os

import pytest
import redis

from devkit.services import RedisServer


@pytest.fixture(autouse=True)
def _empty_redis(redis_service: RedisServer | None) -> None:
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
