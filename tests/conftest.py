"""Session services and per-test isolation.

Redis starts before collection (test modules import the Celery app, which reads REDIS_URL
at import time): a throwaway ``redis-server`` unless ``TEST_REDIS_URL`` names one to use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from devkit.services import RECORDINGS, RedisServer
from replay.server import clear_faults, clear_requests, run_replay_server

__all__ = ["RECORDINGS"]  # imported by test modules

_started: list[RedisServer] = []


def pytest_configure(config: pytest.Config) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        # Persistent like the stack's Redis, so the recovery tests can restart it.
        _started.append(RedisServer(persistent=True))
        url = _started[0].url
    os.environ["REDIS_URL"] = url
    # Keep tests off the real site and off the developer's data, whatever .env says.
    os.environ["NBA_STATS_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    os.environ["DATA_DIR"] = str(Path(config.rootpath) / "var" / "test-data-unused")
    # The single-host store unless a test says otherwise (a developer's .env may name a server).
    os.environ["TRACKING_SERVER_URL"] = ""
    os.environ["DATA_STORE"] = "volume"


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in _started:
        server.stop()


@pytest.fixture
def redis_server() -> RedisServer:
    """The tests' own redis-server, for tests that restart it."""
    if not _started:
        pytest.skip("needs the tests' own redis-server (TEST_REDIS_URL names an outside one)")
    return _started[0]


@pytest.fixture(autouse=True)
def _empty_redis() -> None:
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def replay_url() -> Iterator[str]:
    """The replay server (stand-in for stats.nba.com) in its own process, on the recordings."""
    with run_replay_server(RECORDINGS, fault_delay_s=2.0) as url:
        yield url


@pytest.fixture
def replay(replay_url: str) -> str:
    clear_faults(replay_url)
    clear_requests(replay_url)
    return replay_url
