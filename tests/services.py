"""Real services for the tests: what tests and benchmarks share lives in :mod:`devkit.services`
(re-exported here for the test modules); the Docker CLI helper is the tests' own."""

from __future__ import annotations

import subprocess

from devkit.services import (
    PROJECT_ROOT,
    RECORDINGS,
    RedisServer,
    celery_workers,
    free_port,
    wait_until,
    worker_env,
)

__all__ = [
    "PROJECT_ROOT",
    "RECORDINGS",
    "RedisServer",
    "celery_workers",
    "docker",
    "free_port",
    "wait_until",
    "worker_env",
]


def docker(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
    """The docker CLI, output captured as text."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=check
    )
