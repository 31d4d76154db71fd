"""Session settings, tiers, and the fixtures more than one tier uses.

Tests live in one folder per tier, each test marked with its folder's name (``-m unit``):
``unit`` (no services), ``integration`` (real Redis, Celery workers, MLflow, the replay
server, the CLI as a subprocess), ``ui`` (AppTest; ``browser``: headless Chromium) and ``e2e``
(whole-product runs: the Docker stacks, the base images, the local mode).

Redis runs only for the tiers that use it. Test modules import the Celery app, which reads
REDIS_URL at import time, so REDIS_URL names a port reserved here, before collection; the
throwaway ``redis-server`` starts on that port when a test first needs it (``redis_service``,
used by the integration and ui tiers' conftest.py). Until then nothing listens there: a unit
test that reaches for Redis fails. ``TEST_REDIS_URL`` names an outside server to use instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

from devkit.services import RECORDINGS, RedisServer, free_port
from replay.server import clear_faults, clear_requests, run_replay_server

__all__ = ["RECORDINGS"]  # imported by test modules

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "ui", "e2e")
# Where the session's redis-server will listen (None: TEST_REDIS_URL names an outside one).
_redis_port: int | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _redis_port  # noqa: PLW0603 - set once per session, before collection
    _require_compiled_bytecode()
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        _redis_port = free_port()
        url = f"redis://127.0.0.1:{_redis_port}/0"
    os.environ["REDIS_URL"] = url
    # Keep tests off the real site and off the developer's data, whatever .env says.
    os.environ["NBA_STATS_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    os.environ["DATA_DIR"] = str(Path(config.rootpath) / "var" / "test-data-unused")
    # The single-host store unless a test says otherwise (a developer's .env may name a server).
    os.environ["TRACKING_SERVER_URL"] = ""
    os.environ["DATA_STORE"] = "volume"


def _require_compiled_bytecode() -> None:
    """Tests start many Python processes (workers, the CLI, servers). Where nothing may write
    bytecode (PYTHONDONTWRITEBYTECODE), each would compile MLflow, pandas and the rest from
    source, seconds every time: the environment must be compiled once beforehand."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return  # the first process to import a module writes its bytecode
    spec = importlib.util.find_spec("mlflow")  # found, not imported
    if spec and spec.origin and not Path(importlib.util.cache_from_source(spec.origin)).exists():
        raise pytest.UsageError(
            "PYTHONDONTWRITEBYTECODE is set and the environment has no bytecode: every process "
            "the tests start would compile it again. Run `uv sync --frozen --compile-bytecode` "
            "once (scripts/test.sh does)."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(_tier(item))
    if hasattr(config, "workerinput"):  # collected by a pytest-xdist worker
        # scripts/test.sh hands out whole modules (--dist loadfile) in collection order: the
        # slowest first, so that no long module starts last.
        items.sort(key=_schedule_rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, the two compose stacks one work unit (:class:`_StacksTogether`)."""
    if config.getoption("dist") == "loadfile":
        return _StacksTogether(config, log)
    return None


class _StacksTogether(LoadFileScheduling):
    """A module per work unit, except the compose stacks: both in one, so one worker brings
    them up one after the other (side by side on two cores their trainings and health checks
    starve each other) while the other workers run the rest."""

    def _split_scope(self, nodeid: str) -> str:
        module = super()._split_scope(nodeid)
        return "compose stacks" if Path(module).name in _COMPOSE_STACKS else module


_COMPOSE_STACKS = ("test_docker_stack.py", "test_docker_multihost.py")
# The compose stacks, then the longest modules.
_FIRST = (
    *_COMPOSE_STACKS, "test_run_local.py", "test_recovery.py", "test_train_core.py",
    "test_cli.py", "test_ui_app.py", "test_season_store.py",
)  # fmt: skip
_SLOWEST_FIRST = ("e2e", "integration", "ui", "unit")


def _schedule_rank(item: pytest.Item) -> tuple[int, int]:
    name = item.path.name
    first = _FIRST.index(name) if name in _FIRST else len(_FIRST)
    return first, _SLOWEST_FIRST.index(_tier(item))


def _tier(item: pytest.Item) -> str:
    path = item.path.resolve()
    parts = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
    if len(parts) < 2 or parts[0] not in TIERS:
        raise pytest.UsageError(f"{item.nodeid}: a test module belongs in tests/<tier>/ {TIERS}")
    return parts[0]


@pytest.fixture(scope="session")
def redis_service() -> Iterator[RedisServer | None]:
    """The session's redis-server on the port REDIS_URL names, started on first use; None when
    TEST_REDIS_URL names an outside server. Persistent like the stack's Redis, so the recovery
    tests can restart it."""
    if _redis_port is None:
        yield None
        return
    server = RedisServer(persistent=True, port=_redis_port)
    yield server
    server.stop()


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
